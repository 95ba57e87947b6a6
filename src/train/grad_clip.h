#pragma once
// Gradient clipping by global L2 norm, the rule of torch.nn.utils.clip_grad_norm_.
#include <torch/torch.h>

#include <vector>

namespace bf::train {

// Global L2 norm of the defined gradients of `params`, accumulated in fp32.
// 0 when no parameter has a gradient.
double grad_norm(const std::vector<torch::Tensor>& params);

// The pre-clip global norm and the factor clipping to max_norm multiplies
// the gradients by: max_norm / (norm + 1e-6) in fp32 as torch computes it,
// or 1 (within the limit, max_norm <= 0, or a non-finite norm). The
// optimizer can apply it as it reads each gradient (Optimizer::step), which
// saves clip_grad_norm's pass over every gradient.
struct GradClip {
  double norm = 0.0;
  double scale = 1.0;
};
GradClip clip_factor(const std::vector<torch::Tensor>& params, double max_norm);

// Returns the pre-clip global norm. When it exceeds max_norm, scales every
// gradient by max_norm / (norm + 1e-6) in place. max_norm <= 0 only measures.
// A non-finite norm leaves the gradients untouched (the step will be skipped).
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

// False when a gradient norm is NaN or infinite: some gradient element was
// non-finite (or the sum of squares overflowed), and the step must be skipped.
bool all_finite(double norm);

}  // namespace bf::train
