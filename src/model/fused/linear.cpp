// A linear layer whose three GEMMs are split over the threads by hand, each
// part one single-threaded BLAS call (OpenBLAS's OpenMP build runs a call
// made inside at::parallel_for on the calling thread). OpenBLAS's own
// threading of one call packs shared panels and waits for its threads
// between them; on a 2-core VM, mini's shapes ran 1-3 % faster split by rows
// forward and for the input's gradient, and 3-13 % for the weight's gradient
// (K = tokens), split by the weight's rows (docs/performance.md).
//
// BLAS kernels round an output element differently depending on where the
// split falls, so, as with OpenBLAS's own threading of large products, the
// bits depend on the thread count (resume already requires the same one).
// The bias gradient is LibTorch's column sum, as in addmm's backward.
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>

#include <algorithm>

#include "model/fused/blas.h"
#include "model/fused/fused_ops.h"
#include "model/fused/op_support.h"

namespace bf::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using namespace support;

// f(begin, end) over about equal parts of [0, n), one per thread, none
// smaller than `min_part` rows (tiny layers stay one call).
template <class F>
void split_rows(std::int64_t n, std::int64_t min_part, const F& f) {
  const std::int64_t parts =
      std::max<std::int64_t>(1, std::min<std::int64_t>(at::get_num_threads(), n / std::max<std::int64_t>(min_part, 1)));
  at::parallel_for(0, parts, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t p = first; p < last; ++p) f(n * p / parts, n * (p + 1) / parts);
  });
}

constexpr std::int64_t kMinRows = 32;

struct SplitLinear : torch::autograd::Function<SplitLinear> {
  // x [T, K], weight [N, K], bias [N] -> [T, N].
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, bool keep) {
    RECORD_FUNCTION("bf::linear", std::vector<c10::IValue>());
    auto xc = x.contiguous();
    auto w = weight.contiguous();
    auto b = bias.contiguous();
    const std::int64_t T = xc.size(0), K = xc.size(1), N = w.size(0);
    auto out = torch::empty({T, N}, xc.options());
    const float *xp = xc.data_ptr<float>(), *wp = w.data_ptr<float>(), *bp = b.data_ptr<float>();
    float* op = out.data_ptr<float>();
    // The bias first, then the product accumulated onto it (beta = 1), as
    // addmm does. Split by rows, or by columns where the weight has more rows
    // than x (the MLM decoder: 30,522 by a few hundred predicted positions),
    // so that each thread packs only its part of the larger operand.
    if (N <= T) {
      split_rows(T, kMinRows, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) std::copy(bp, bp + N, op + r * N);
        fused::gemm(false, true, r1 - r0, N, K, 1.0f, xp + r0 * K, K, wp, K, 1.0f, op + r0 * N, N);
      });
    } else {
      split_rows(N, kMinRows, [&](std::int64_t n0, std::int64_t n1) {
        for (std::int64_t r = 0; r < T; ++r) std::copy(bp + n0, bp + n1, op + r * N + n0);
        fused::gemm(false, true, T, n1 - n0, K, 1.0f, xp, K, wp + n0 * K, K, 1.0f, op + n0, N);
      });
    }
    if (keep) ctx->save_for_backward({xc, w});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1];
    const auto grad = grads[0].contiguous();
    const std::int64_t T = x.size(0), K = x.size(1), N = w.size(0);
    const float *gp = grad.data_ptr<float>(), *xp = x.data_ptr<float>(), *wp = w.data_ptr<float>();
    torch::Tensor grad_x, grad_w, grad_b;
    if (ctx->needs_input_grad(0)) {
      grad_x = torch::empty({T, K}, x.options());
      float* gx = grad_x.data_ptr<float>();
      split_rows(T, kMinRows, [&](std::int64_t r0, std::int64_t r1) {
        fused::gemm(false, false, r1 - r0, K, N, 1.0f, gp + r0 * N, N, wp, K, 0.0f, gx + r0 * K, K);
      });
    }
    if (ctx->needs_input_grad(1)) {
      // dW = dY^T X, split by dW's rows: rows n0..n1 read columns n0..n1 of dY.
      grad_w = torch::empty({N, K}, w.options());
      float* gw = grad_w.data_ptr<float>();
      split_rows(N, kMinRows, [&](std::int64_t n0, std::int64_t n1) {
        fused::gemm(true, false, n1 - n0, K, T, 1.0f, gp + n0, N, xp, K, 0.0f, gw + n0 * K, K);
      });
    }
    if (ctx->needs_input_grad(2)) grad_b = grad.sum(0);
    return {grad_x, grad_w, grad_b, torch::Tensor()};
  }
};

// Under CPU autocast (bf16), a linear whose weight has many rows (the MLM
// decoder's 30,522) on few input rows (the ~15 % labelled positions): its
// weight gradient dYᵀX has a short K and a huge output, which oneDNN ran at
// 160 GFLOP/s as one product on Zen4 and at 730 in blocks of 4,096 of the
// weight's rows (base's [30,522 x 304] x [304 x 768]; about 65 ms of a
// base bf16 step). Each output element is the same dot product either way.
// The inputs arrive cast (autocast's casts carry their own backward).
struct WideWeightLinear : torch::autograd::Function<WideWeightLinear> {
  static constexpr std::int64_t kBlockRows = 4096;

  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
    RECORD_FUNCTION("bf::wide_weight_linear", std::vector<c10::IValue>());
    ctx->save_for_backward({x, weight});
    return at::addmm(bias, x, weight.t());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1];
    const auto grad = grads[0].contiguous();
    torch::Tensor grad_x, grad_w, grad_b;
    if (ctx->needs_input_grad(0)) grad_x = at::mm(grad, weight);
    if (ctx->needs_input_grad(1)) {
      grad_w = torch::empty_like(weight);
      for (std::int64_t r = 0; r < weight.size(0); r += kBlockRows) {
        const auto n = std::min(kBlockRows, weight.size(0) - r);
        auto block = grad_w.narrow(0, r, n);
        at::mm_out(block, grad.narrow(1, r, n).t(), x);
      }
    }
    if (ctx->needs_input_grad(2)) grad_b = grad.sum(0);
    return {grad_x, grad_w, grad_b};
  }
};

// f(x as [rows, in]) viewed back as x's leading dimensions by out.
template <class F>
torch::Tensor over_rows(const torch::Tensor& x, std::int64_t out, const F& f) {
  auto sizes = x.sizes().vec();
  sizes.back() = out;
  return f(x.reshape({-1, x.size(-1)})).view(sizes);
}

// t as CPU autocast hands it to a low-precision op: cast to autocast's CPU
// dtype, the cast of a leaf weight cached for the step.
torch::Tensor autocast_cpu_cast(const torch::Tensor& t) {
  return at::autocast::cached_cast(at::autocast::get_autocast_cpu_dtype(), t, c10::DeviceType::CPU);
}

torch::Tensor autocast_wide_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  auto xb = autocast_cpu_cast(x), wb = autocast_cpu_cast(weight), bb = autocast_cpu_cast(bias);
  // Autocast off inside: the function's own ops are already in bf16.
  at::autocast::set_cpu_enabled(false);
  struct Restore {
    ~Restore() { at::autocast::set_cpu_enabled(true); }
  } restore;
  return over_rows(xb, weight.size(0), [&](const torch::Tensor& flat) { return WideWeightLinear::apply(flat, wb, bb); });
}

bool cpu_fp32(const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == torch::kFloat; }

}  // namespace

bool supports_linear(const torch::Tensor& x, const torch::Tensor& weight) {
  // BLAS takes no empty matrices (an MLM batch may predict no position).
  if (!x.device().is_cpu() || !weight.device().is_cpu() || x.numel() == 0) return false;
  if (at::autocast::is_cpu_enabled())
    return at::autocast::get_autocast_cpu_dtype() == torch::kBFloat16 && weight.size(0) > WideWeightLinear::kBlockRows;
  return cpu_fp32(x) && cpu_fp32(weight);
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  TORCH_CHECK(supports_linear(x, weight) && bias.defined() && bias.device().is_cpu(),
              "fused::linear: unsupported tensors (a bias is required)");
  TORCH_CHECK(x.dim() >= 2 && weight.dim() == 2 && x.size(-1) == weight.size(1) && bias.numel() == weight.size(0),
              "fused::linear: x [..., K], weight [N, K] and bias [N] expected");
  if (at::autocast::is_cpu_enabled()) return autocast_wide_linear(x, weight, bias);
  TORCH_CHECK(cpu_fp32(bias), "fused::linear: the bias must be fp32 as x and weight are");
  return over_rows(x, weight.size(0), [&](const torch::Tensor& flat) {
    return SplitLinear::apply(flat, weight, bias, wants_grad({&x, &weight, &bias}));
  });
}

}  // namespace bf::model::fused
