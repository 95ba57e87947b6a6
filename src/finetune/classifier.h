#pragma once
// A fine-tuned classifier directory (HF layout: config.json with the label
// map, problem type and head settings, model.safetensors, tokenizer files),
// loaded for evaluate and predict, and the batched inference both use.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "finetune/dataset.h"
#include "finetune/labels.h"
#include "model/bert_for_sequence_classification.h"
#include "tokenizer/tokenizer.h"

namespace bf::ft {

struct LoadedClassifier {
  std::string dir;
  model::BertConfig config;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  model::BertForSequenceClassification model{nullptr};
  TaskType task = TaskType::SingleLabel;
  LabelMap labels;
  std::int32_t pad_id = 0;
};

// Refuses directories whose weights do not cover the classifier.
LoadedClassifier load_classifier(const std::string& dir, torch::Device device);

// Logits [N, C] (float32, CPU) of every example in dataset order; batches of
// similar lengths, each padded to its own longest sequence.
torch::Tensor predict_logits(model::BertForSequenceClassification& model, const Dataset& data,
                             std::int64_t batch_size, std::int32_t pad_id, torch::Device device);

// What a row of logits means: a class id, the set of classes over 0.5, a value.
struct Decision {
  std::int64_t label = -1;
  std::vector<std::int64_t> label_ids;
  double value = 0;
  std::vector<double> probabilities;  // softmax (single) or sigmoid (multi); empty for regression
};
Decision decide(TaskType task, const torch::Tensor& logits_row);

}  // namespace bf::ft
