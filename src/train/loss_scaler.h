#pragma once
// Dynamic loss scaling for fp16 training, as torch.cuda.amp.GradScaler does
// (LibTorch 1.13 has no C++ GradScaler): the loss is multiplied by `scale`
// before backward so small fp16 gradients do not flush to zero; the
// gradients are divided by it again before clipping; a step whose gradients
// overflowed is skipped and the scale multiplied by backoff_factor; after
// growth_interval good steps in a row it grows by growth_factor. Scales are
// powers of two, so scaling and unscaling are exact. The state goes into
// every checkpoint, so a resumed fp16 run stays exact.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace bf::train {

struct LossScalerOptions {
  bool enabled = false;
  double init_scale = 65536.0;  // 2^16, PyTorch's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  std::int64_t growth_interval = 2000;
};

class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions options = {});

  bool enabled() const { return options_.enabled; }
  double scale() const { return scale_; }
  // loss x scale (the loss itself when disabled).
  torch::Tensor scale_loss(const torch::Tensor& loss) const;
  // Divides the gradients by the scale in place; true when any of them holds
  // an inf or NaN (the step must then be skipped).
  bool unscale_and_check(const std::vector<torch::Tensor>& grads) const;
  // After each step: shrink on overflow, grow after growth_interval clean steps.
  void update(bool found_inf);

  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  LossScalerOptions options_;
  double scale_;
  std::int64_t good_steps_ = 0;
};

}  // namespace bf::train
