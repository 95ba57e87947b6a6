#pragma once
// A sequence classifier at work: the logits of tokenized examples through the
// inference loop, and what a row of logits means.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "finetune/classify/dataset.h"
#include "finetune/labels.h"
#include "infer/model.h"

namespace bf::ft::classify {

// Logits [N, C] (float32, CPU) of every example in dataset order; batches of
// similar lengths, each padded to its own longest sequence.
torch::Tensor predict_logits(infer::Model& model, const Dataset& data, std::int64_t batch_size);

// What a row of logits means: a class id, the set of classes over 0.5, a value.
struct Decision {
  std::int64_t label = -1;
  std::vector<std::int64_t> label_ids;
  double value = 0;
  std::vector<double> probabilities;  // softmax (single) or sigmoid (multi); empty for regression
};
Decision decide(TaskType task, const torch::Tensor& logits_row);

}  // namespace bf::ft::classify
