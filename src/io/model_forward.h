#pragma once
// Runs a model directory of any architecture (chosen by config.json's
// "architectures") in eval mode on one batch and returns every output under
// HF's names: the parity tool behind `bertforge model forward`.
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bf::io {

// The batch is a JSON file (io/batch_json.h), read after the model loaded;
// the loss is computed when its labels are present (labels,
// masked_lm_labels + next_sentence_label, start_positions + end_positions).
std::vector<std::pair<std::string, torch::Tensor>> forward_model_dir(const std::string& model_dir,
                                                                    const std::string& batch_json);

}  // namespace bf::io
