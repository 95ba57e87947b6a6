#pragma once
// Extractive question answering as a fine-tuning task: BertForQuestionAnswering
// on the windows (features) of SQuAD-layout questions, the loss
// (CE(start) + CE(end)) / 2 averaged over the step's windows on every rank,
// and the dev set answered and scored as the official scripts score it.
#include <torch/torch.h>

#include <map>
#include <string>

#include "finetune/example_task.h"
#include "finetune/qa/qa_reader.h"
#include "model/bert_for_question_answering.h"

namespace bf::ft::qa {

QaSettings qa_settings(const FinetuneConfig& config);

class QaTask : public ExampleTask {
 public:
  QaTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm = dist::single_process());

  torch::nn::Module& model() override { return *model_; }
  train::MicroStep forward(std::int64_t micro_batch) override;
  std::map<std::string, double> step_metrics(const std::map<std::string, double>& sums) const override;
  train::Evaluation evaluate() override;
  ModelEvaluation evaluate_dev(infer::Model& model) override;

 private:
  QaSettings settings_;
  QaFeatureSet train_;
  SquadData dev_;
  QaFeatureSet dev_features_;
  model::BertForQuestionAnswering model_{nullptr};
};

}  // namespace bf::ft::qa
