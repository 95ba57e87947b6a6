#pragma once
// Every random generator a training step draws from (dropout on CPU and on
// each CUDA device), captured and restored so a resumed run draws exactly the
// numbers the uninterrupted run would have drawn. The data pipeline needs no
// state here: its samples are a pure function of (seed, epoch, index).
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bf::train {

std::vector<std::pair<std::string, torch::Tensor>> capture_rng_state();
void restore_rng_state(const std::map<std::string, torch::Tensor>& state);

// Puts every generator back as it was when the guard was made: work inside
// the scope (a probe, a throw-away model) can seed and draw freely without
// changing what the run draws next.
class RngStateGuard {
 public:
  RngStateGuard();
  ~RngStateGuard();
  RngStateGuard(const RngStateGuard&) = delete;
  RngStateGuard& operator=(const RngStateGuard&) = delete;

 private:
  std::map<std::string, torch::Tensor> saved_;
};

}  // namespace bf::train
