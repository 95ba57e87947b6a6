#include "train/loss_scaler.h"

#include <ATen/ATen.h>

#include <cmath>

#include "util/error.h"

namespace bf::train {

LossScaler::LossScaler(LossScalerOptions options) : options_(options), scale_(options.init_scale) {
  if (!(options_.init_scale > 0) || !std::isfinite(options_.init_scale))
    bf::fail("training.loss_scale_init must be a positive number");
}

torch::Tensor LossScaler::scale_loss(const torch::Tensor& loss) const {
  return options_.enabled ? loss * scale_ : loss;
}

bool LossScaler::unscale_and_check(const std::vector<torch::Tensor>& grads) const {
  if (!options_.enabled || grads.empty()) return false;
  torch::NoGradGuard no_grad;
  const double inv = 1.0 / scale_;
  const auto device = grads.front().device();
  auto found_inf = torch::zeros({1}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  bool all_cuda = true;
  for (const auto& g : grads) all_cuda = all_cuda && g.is_cuda() && g.device() == device;
  if (all_cuda) {
    // PyTorch's fused kernel (CUDA in 1.13): one pass over every gradient.
    auto inv_scale = torch::full({1}, inv, found_inf.options());
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
    return found_inf.item<float>() > 0;
  }
  bool found = false;
  for (const auto& g : grads) {
    auto grad = g;  // shares storage: the gradient itself
    grad.mul_(inv);
    if (!found && !torch::isfinite(grad).all().item<bool>()) found = true;
  }
  return found;
}

void LossScaler::update(bool found_inf) {
  if (!options_.enabled) return;
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    good_steps_ = 0;
    return;
  }
  if (++good_steps_ >= options_.growth_interval) {
    const double grown = scale_ * options_.growth_factor;
    if (std::isfinite(grown) && grown < 3.0e38) scale_ = grown;  // stays a finite fp32 number
    good_steps_ = 0;
  }
}

nlohmann::json LossScaler::state() const {
  return {{"enabled", options_.enabled}, {"scale", scale_}, {"good_steps", good_steps_}};
}

void LossScaler::load_state(const nlohmann::json& state) {
  if (!state.is_object()) return;
  scale_ = state.value("scale", options_.init_scale);
  good_steps_ = state.value("good_steps", std::int64_t{0});
}

}  // namespace bf::train
