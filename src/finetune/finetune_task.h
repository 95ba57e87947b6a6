#pragma once
// Fine-tuning as a TrainingTask: a BertForSequenceClassification on batches
// of the training file. The loss of each micro-batch is normalised by the
// whole step's (weighted) example count, so accumulation equals one large
// batch. The batch order is a function of (seed, epoch), so the data cursor
// is (epoch, batch) and resume is exact. Each evaluation on the dev set is
// logged in full, and an improvement of the best metric saves best_model/.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "finetune/batch_plan.h"
#include "finetune/dataset.h"
#include "finetune/finetune_config.h"
#include "model/bert_for_sequence_classification.h"
#include "train/collective.h"
#include "train/task.h"

namespace bf::ft {

class FinetuneTask : public train::TrainingTask {
 public:
  // With `comm` (a data-parallel run) each step's global batch is
  // batch_size x world_size examples of one plan, rank r taking every
  // world_size-th of them; dev evaluation is split the same way and gathered.
  FinetuneTask(const FinetuneConfig& config, torch::Device device, train::Collective* comm = nullptr);

  torch::nn::Module& model() override { return *model_; }
  const model::BertConfig& model_config() const override { return model_config_; }
  const tok::Tokenizer* tokenizer() const override { return tokenizer_.get(); }
  model::BertForSequenceClassification& classifier() { return model_; }

  void begin_step(std::int64_t micro_batches) override;
  train::MicroStep forward(std::int64_t micro_batch) override;
  std::map<std::string, double> step_metrics(const std::map<std::string, double>& sums) const override;
  std::int64_t tokens_in_step() const override { return tokens_in_step_; }

  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  std::int64_t steps_per_epoch() const override;
  double epochs_done() const override;

  std::map<std::string, double> evaluate() override;
  std::string best_metric() const override { return best_metric_; }
  bool higher_is_better() const override { return best_metric_ != "loss" && best_metric_ != "mse"; }

  // The trainer's eval interval: every_steps, or one epoch.
  std::int64_t eval_every_steps() const;
  bool early_stopped() const { return early_stopped_; }
  bool wants_stop() const override { return early_stopped_; }
  const LabelMap& labels() const { return labels_; }
  const Dataset& train_data() const { return train_; }
  const std::optional<Dataset>& dev_data() const { return dev_; }
  std::string best_model_dir() const;
  std::int32_t pad_id() const { return pad_id_; }

 private:
  std::vector<std::int64_t> next_batch();
  void build_model();
  std::int64_t global_batch_size() const { return config_.training.batch_size * comm_.world_size(); }
  torch::Tensor dev_logits();

  FinetuneConfig config_;
  torch::Device device_;
  train::Collective& comm_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  std::int32_t pad_id_ = 0;
  LabelMap labels_;
  Dataset train_;
  std::optional<Dataset> dev_;
  std::vector<double> class_weights_;
  model::BertConfig model_config_;
  model::BertForSequenceClassification model_{nullptr};

  PlanOptions plan_options_;
  std::int64_t epoch_ = 0, batch_ = 0;  // the cursor: next batch of the epoch plan
  std::int64_t planned_epoch_ = -1;
  BatchIndex plan_;

  std::vector<Batch> step_batches_;
  double step_weight_ = 0;
  std::int64_t tokens_in_step_ = 0;

  std::string best_metric_;
  std::optional<double> best_;
  std::int64_t evals_ = 0, evals_since_best_ = 0;
  bool early_stopped_ = false;
};

}  // namespace bf::ft
