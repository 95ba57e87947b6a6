#include "train/grad_clip.h"

#include <cmath>

namespace bf::train {

namespace {

std::vector<torch::Tensor> defined_grads(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  return grads;
}

// 0-dim fp32 tensor on the first gradient's device.
torch::Tensor global_norm(const std::vector<torch::Tensor>& grads) {
  std::vector<torch::Tensor> fp32, other;
  for (const auto& g : grads) (g.scalar_type() == torch::kFloat32 ? fp32 : other).push_back(g);
  std::vector<torch::Tensor> norms = fp32.empty() ? std::vector<torch::Tensor>{} : at::_foreach_norm(fp32);
  for (const auto& g : other) norms.push_back(at::linalg_vector_norm(g, 2, c10::nullopt, false, torch::kFloat32));
  const auto device = grads.front().device();
  for (auto& n : norms) n = n.to(device);
  return at::linalg_vector_norm(at::stack(norms), 2);
}

}  // namespace

double grad_norm(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  const auto grads = defined_grads(params);
  if (grads.empty()) return 0.0;
  return global_norm(grads).item<double>();
}

GradClip clip_factor(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  const auto grads = defined_grads(params);
  if (grads.empty()) return {};
  const auto total = global_norm(grads);
  GradClip clip;
  clip.norm = total.item<double>();
  if (max_norm <= 0.0 || !all_finite(clip.norm)) return clip;
  // Same fp32 arithmetic as torch: coef = max_norm / (norm + 1e-6), at most 1.
  clip.scale = (max_norm / (total + 1e-6)).clamp_max(1.0).item<double>();
  return clip;
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  const auto clip = clip_factor(params, max_norm);
  if (clip.scale < 1.0) {
    torch::NoGradGuard no_grad;
    at::_foreach_mul_(defined_grads(params), clip.scale);
  }
  return clip.norm;
}

bool all_finite(double norm) { return std::isfinite(norm); }

}  // namespace bf::train
