#pragma once
// Sequence classification as a fine-tuning task: a BertForSequenceClassification on batches
// of the training file. The loss of each micro-batch is normalised by the
// whole step's (weighted) example count, so accumulation equals one large
// batch. The batch order is a function of (seed, epoch), so the data cursor
// is (epoch, batch) and resume is exact. Each evaluation on the dev set returns
// its full report (the trainer logs it to evals.jsonl and keeps best_model/).
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "finetune/classify/dataset.h"
#include "finetune/example_task.h"
#include "finetune/finetune_config.h"
#include "model/bert_for_sequence_classification.h"

namespace bf::ft::classify {

class ClassifyTask : public ExampleTask {
 public:
  // With `comm` (a data-parallel run) each step's global batch is
  // batch_size x world_size examples of one plan, rank r taking every
  // world_size-th of them; dev evaluation is split the same way and gathered.
  ClassifyTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm = dist::single_process());

  torch::nn::Module& model() override { return *model_; }
  model::BertForSequenceClassification& classifier() { return model_; }

  train::MicroStep forward(std::int64_t micro_batch) override;
  std::map<std::string, double> step_metrics(const std::map<std::string, double>& sums) const override;
  train::Evaluation evaluate() override;
  ModelEvaluation evaluate_dev(infer::Model& model) override;

  const LabelMap& labels() const { return labels_; }
  const Dataset& train_data() const { return train_; }
  const std::optional<Dataset>& dev_data() const { return dev_; }

 private:
  void build_model();
  torch::Tensor dev_logits();

  LabelMap labels_;
  Dataset train_;
  std::optional<Dataset> dev_;
  std::vector<double> class_weights_;
  model::BertForSequenceClassification model_{nullptr};
};

}  // namespace bf::ft::classify
