#pragma once
// Metrics of a classifier on a labelled dataset: the loss the training
// minimises (unweighted) and the task's report (see metrics.h).
#include <torch/torch.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "finetune/classify/dataset.h"

namespace bf::ft::classify {

struct EvalResult {
  nlohmann::json report;                 // the full report, with "loss"
  std::map<std::string, double> metrics; // its headline numbers, with "loss"
};

EvalResult evaluate_logits(const Dataset& data, const torch::Tensor& logits, const LabelMap& labels);

// Per-example loss [B] in float32: cross-entropy, mean BCE over classes, or squared error.
torch::Tensor per_example_loss(TaskType task, const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace bf::ft::classify
