#pragma once
// evaluate and predict for any fine-tuned model directory, chosen by its
// config.json architecture: sequence classification (TSV/CSV/JSONL rows),
// token classification (CoNLL or JSONL sentences) or extractive QA (SQuAD
// JSON). The CLI calls these and prints.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>

#include "finetune/inference.h"

namespace bf::ft {

struct ModelEvaluation {
  nlohmann::json report;  // metrics and counts, as evaluate --output writes them
  std::string table;      // per-class or per-type table, "" when none
};

ModelEvaluation evaluate_model_dir(const std::string& model_dir, const std::string& data, const InputSettings& settings,
                                   torch::Device device);

// Classification: a row per input row; token classification: the input with
// the predicted tags; QA: {id: answer} at `output` and the n-best lists in
// nbest_predictions.json beside it.
PredictSummary predict_model_dir(const std::string& model_dir, const std::string& input, const std::string& output,
                                 const InputSettings& settings, torch::Device device);

}  // namespace bf::ft
