#pragma once
// Token classification (NER) as a fine-tuning task: BertForTokenClassification
// on windows of labelled sentences, the loss normalised by the step's
// labelled tokens over every micro-batch and rank, entity-level F1 on the
// dev set with conlleval's rules.
#include <torch/torch.h>

#include <map>
#include <string>

#include "finetune/example_task.h"
#include "finetune/labels.h"
#include "finetune/tagging/tagged_reader.h"
#include "finetune/tagging/tagger.h"
#include "model/bert_for_token_classification.h"

namespace bf::ft::tagging {

// The label map of the training tags: data.labels when given, else every tag
// seen, sorted; "O" is always in it.
LabelMap tagging_label_map(const std::vector<TaggedSentence>& sentences, const std::vector<std::string>& configured);

TaggedReadOptions tagged_read_options(const FinetuneConfig& config);
TaggingSettings tagging_settings(const FinetuneConfig& config);

class TaggingTask : public ExampleTask {
 public:
  TaggingTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm = dist::single_process());

  torch::nn::Module& model() override { return *model_; }
  train::MicroStep forward(std::int64_t micro_batch) override;
  std::map<std::string, double> step_metrics(const std::map<std::string, double>& sums) const override;
  train::Evaluation evaluate() override;
  ModelEvaluation evaluate_dev(infer::Model& model) override;

  const LabelMap& labels() const { return labels_; }

 private:
  LabelMap labels_;
  WindowedSentences train_;
  TaggedData dev_;
  WindowedSentences dev_windows_;
  model::BertForTokenClassification model_{nullptr};
};

}  // namespace bf::ft::tagging
