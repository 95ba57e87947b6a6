#include "train/adamw_kernel.h"

#include <cmath>

#include "util/cpu_dispatch.h"

namespace bf::train {

namespace {

// Compiled once per instruction-set level (util/cpu_dispatch.h), so a generic
// x86-64 build still runs full-width vector code. Without FMA contraction
// (CMakeLists.txt) every copy rounds identically, which keeps a run resumed on
// another CPU on the same numbers.
inline __attribute__((always_inline)) void adamw_loop(float* param, const float* grad, float* exp_avg,
                                                      float* exp_avg_sq, std::int64_t n, const AdamwScalars& s) {
  const float b1 = s.beta1, b2 = s.beta2, c1 = s.one_minus_beta1, c2 = s.one_minus_beta2;
  const float decay = s.decay, step_size = s.step_size, correction = s.sqrt_correction, eps = s.eps;
  const float scale = s.grad_scale;
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = grad[i] * scale;
    const float m = exp_avg[i] * b1 + g * c1;
    const float v = exp_avg_sq[i] * b2 + c2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = param[i] * decay + step_size * m / (std::sqrt(v) / correction + eps);
  }
}

}  // namespace

BF_CPU_DISPATCH(adamw_update, (float* param, const float* grad, float* exp_avg, float* exp_avg_sq, std::int64_t n,
                const AdamwScalars& s),
                (param, grad, exp_avg, exp_avg_sq, n, s), adamw_loop)

}  // namespace bf::train
