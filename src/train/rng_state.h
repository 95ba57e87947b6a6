#pragma once
// Every random generator a training step draws from (dropout on CPU and on
// each CUDA device), captured and restored so a resumed run draws exactly the
// numbers the uninterrupted run would have drawn. The data pipeline needs no
// state here: its samples are a pure function of (seed, epoch, index).
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace bf::train {

std::vector<std::pair<std::string, torch::Tensor>> capture_rng_state();
void restore_rng_state(const std::map<std::string, torch::Tensor>& state);

}  // namespace bf::train
