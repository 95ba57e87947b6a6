#pragma once
// One probe of an encoder: linear (frozen encoder, mean-pooled last-layer
// features, logistic regression; no gradient through the encoder) or
// finetune (a fixed number of full fine-tuning steps on a copy of the
// weights). Either way the encoder and every random generator are left
// exactly as they were, so a pretraining run that probes trains on
// bit-identically to one that does not.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "finetune/probe/probe_data.h"
#include "finetune/probe/probe_section.h"
#include "model/bert_model.h"

namespace bf::ft {

struct ProbeResult {
  double accuracy = 0;  // dev, fraction
  double macro_f1 = 0;  // dev
  std::int64_t train_examples = 0;
  std::int64_t dev_examples = 0;
  double seconds = 0;

  nlohmann::json to_json() const;
  static ProbeResult from_json(const nlohmann::json& j);
};

// The mean of the last layer over each example's real tokens: [N, H], float, CPU.
torch::Tensor mean_pooled_features(model::BertModel& encoder, const classify::Dataset& data, std::int32_t pad_id,
                                   torch::Device device, std::int64_t batch_size = 64);

ProbeResult run_probe(model::BertModel& encoder, const ProbeData& data, const ProbeSection& section,
                      torch::Device device);

}  // namespace bf::ft
