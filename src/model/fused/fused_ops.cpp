#include "model/fused/fused_ops.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <type_traits>

#include "model/fused/kernels.h"
#include "model/fused/op_support.h"

namespace bf::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using namespace support;

struct DropoutAddLayerNorm : torch::autograd::Function<DropoutAddLayerNorm> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& y, const torch::Tensor& residual,
                               const torch::Tensor& gamma, const torch::Tensor& beta, double p, bool training,
                               double eps, bool keep) {
    RECORD_FUNCTION("bf::dropout_add_layer_norm", std::vector<c10::IValue>());
    auto yc = y.contiguous();
    auto rc = residual.contiguous();
    auto g = gamma.contiguous();
    auto b = beta.contiguous();
    fused::LayerNormArgs a{g.data_ptr<float>(), b.data_ptr<float>(), static_cast<float>(eps), g.numel(),
                           maybe_draw(p, training)};
    const std::int64_t rows = a.cols ? yc.numel() / a.cols : 0;
    // fp32 out and z whatever y's dtype: the residual stream stays fp32, as
    // LibTorch's bf16 + fp32 and layer_norm would leave it.
    auto out = torch::empty_like(rc);
    // Without gradients (evaluation, predict) z is not kept: out holds it first.
    auto z = keep ? torch::empty_like(rc) : out;
    auto mean = torch::empty({rows}, rc.options());
    auto rstd = torch::empty({rows}, rc.options());
    const float* rp = rc.data_ptr<float>();
    float *zp = z.data_ptr<float>(), *op = out.data_ptr<float>();
    float *mp = mean.data_ptr<float>(), *sp = rstd.data_ptr<float>();
    with_elements(yc, [&](const auto* yp) {
      at::parallel_for(0, rows, grain_rows(a.cols), [&](std::int64_t begin, std::int64_t end) {
        fused::dropout_add_layer_norm_forward(yp, rp, a, zp, op, mp, sp, begin, end);
      });
    });
    if (!keep) return out;
    ctx->save_for_backward({z, mean, rstd, g});
    save_draw(ctx, a.dropout);
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["y_bf16"] = is_bf16(yc);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &z = saved[0], &mean = saved[1], &rstd = saved[2], &gamma = saved[3];
    const auto grad_out = grads[0].contiguous();
    fused::LayerNormArgs a{gamma.data_ptr<float>(), nullptr, static_cast<float>(ctx->saved_data["eps"].toDouble()),
                           gamma.numel(), load_draw(ctx)};
    const std::int64_t cols = a.cols;
    const std::int64_t rows = cols ? z.numel() / cols : 0;
    auto grad_z = torch::empty_like(z);
    // Without dropout both inputs get the same gradient (in y's dtype).
    const bool y_bf16 = ctx->saved_data["y_bf16"].toBool();
    auto grad_y = a.dropout.active() || y_bf16 ? torch::empty_like(z, y_bf16 ? torch::kBFloat16 : torch::kFloat)
                                               : grad_z;
    // gamma's and beta's gradients: one partial sum per block of rows (blocks
    // fixed, not per thread), added in block order: the same bits on any
    // number of threads.
    constexpr std::int64_t kBlock = 32;
    const std::int64_t blocks = (rows + kBlock - 1) / kBlock;
    auto partial = torch::zeros({blocks, 2, cols}, z.options());
    const float *gp = grad_out.data_ptr<float>(), *zp = z.data_ptr<float>();
    const float *mp = mean.data_ptr<float>(), *sp = rstd.data_ptr<float>();
    float *dz = grad_z.data_ptr<float>(), *pp = partial.data_ptr<float>();
    with_elements(grad_y, [&](auto* dy) {
      at::parallel_for(0, blocks, std::max<std::int64_t>(1, grain_rows(cols) / kBlock),
                       [&](std::int64_t begin, std::int64_t end) {
                         for (std::int64_t k = begin; k < end; ++k)
                           fused::dropout_add_layer_norm_backward(gp, zp, mp, sp, a, dz, dy, pp + k * 2 * cols,
                                                                  pp + (k * 2 + 1) * cols, k * kBlock,
                                                                  std::min(rows, (k + 1) * kBlock));
                       });
    });
    auto sums = torch::zeros({2, cols}, z.options());
    float* total = sums.data_ptr<float>();
    for (std::int64_t k = 0; k < blocks; ++k)
      for (std::int64_t j = 0; j < 2 * cols; ++j) total[j] += pp[k * 2 * cols + j];
    return {grad_y, grad_z, sums[0], sums[1], torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct MaskedSoftmaxDropout : torch::autograd::Function<MaskedSoftmaxDropout> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& scores, const torch::Tensor& mask, double p,
                               bool training, double scale) {
    RECORD_FUNCTION("bf::masked_softmax_dropout", std::vector<c10::IValue>());
    auto sc = scores.contiguous();
    const std::int64_t batch = sc.size(0), cols = sc.size(-1);
    auto m = mask.reshape({batch, cols}).to(torch::kFloat).contiguous();
    fused::SoftmaxArgs a{m.data_ptr<float>(), sc.size(1) * sc.size(2), cols, maybe_draw(p, training),
                         static_cast<float>(scale)};
    const std::int64_t rows = sc.numel() / std::max<std::int64_t>(cols, 1);
    auto probs = torch::empty_like(sc);
    auto dropped = a.dropout.active() ? torch::empty_like(sc) : probs;
    with_elements(sc, [&](const auto* sp) {
      using T = std::remove_const_t<std::remove_pointer_t<decltype(sp)>>;
      T* pp = reinterpret_cast<T*>(probs.data_ptr());
      T* dp = reinterpret_cast<T*>(dropped.data_ptr());
      at::parallel_for(0, rows, grain_rows(cols), [&](std::int64_t begin, std::int64_t end) {
        fused::masked_softmax_dropout_forward(sp, a, pp, dp, begin, end);
      });
    });
    ctx->save_for_backward({probs});
    save_draw(ctx, a.dropout);
    ctx->saved_data["scale"] = scale;
    return dropped;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto probs = ctx->get_saved_variables()[0];
    const std::int64_t cols = probs.size(-1);
    fused::SoftmaxArgs a{nullptr, 1, cols, load_draw(ctx), static_cast<float>(ctx->saved_data["scale"].toDouble())};
    auto grad = grads[0].to(probs.scalar_type()).contiguous();
    auto grad_scores = torch::empty_like(probs);
    with_elements(probs, [&](const auto* pp) {
      using T = std::remove_const_t<std::remove_pointer_t<decltype(pp)>>;
      const T* gp = reinterpret_cast<const T*>(grad.data_ptr());
      T* out = reinterpret_cast<T*>(grad_scores.data_ptr());
      at::parallel_for(0, probs.numel() / std::max<std::int64_t>(cols, 1), grain_rows(cols),
                       [&](std::int64_t begin, std::int64_t end) {
                         fused::masked_softmax_dropout_backward(gp, pp, a, out, begin, end);
                       });
    });
    return {grad_scores, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// Elementwise, so each element's result is the same on any thread count.
struct Gelu : torch::autograd::Function<Gelu> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
    RECORD_FUNCTION("bf::gelu", std::vector<c10::IValue>());
    auto xc = x.contiguous();
    auto y = torch::empty_like(xc);
    with_elements(xc, [&](const auto* xp) {
      using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
      T* yp = reinterpret_cast<T*>(y.data_ptr());
      at::parallel_for(0, xc.numel(), 16384, [&](std::int64_t begin, std::int64_t end) {
        fused::gelu_forward(xp, yp, begin, end);
      });
    });
    ctx->save_for_backward({xc});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    auto grad = grads[0].to(x.scalar_type()).contiguous();
    auto grad_x = torch::empty_like(x);
    with_elements(x, [&](const auto* xp) {
      using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
      const T* gp = reinterpret_cast<const T*>(grad.data_ptr());
      T* out = reinterpret_cast<T*>(grad_x.data_ptr());
      at::parallel_for(0, x.numel(), 16384, [&](std::int64_t begin, std::int64_t end) {
        fused::gelu_backward(gp, xp, out, begin, end);
      });
    });
    return {grad_x};
  }
};

struct CrossEntropySum : torch::autograd::Function<CrossEntropySum> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& logits, const torch::Tensor& labels) {
    RECORD_FUNCTION("bf::cross_entropy_sum", std::vector<c10::IValue>());
    auto x = logits.contiguous();
    auto y = labels.contiguous();
    const std::int64_t rows = x.size(0), cols = x.size(1);
    // Per-row results in fp32 whatever the logits' dtype.
    const auto f32 = x.options().dtype(torch::kFloat);
    auto loss = torch::empty({rows}, f32);
    auto top = torch::empty({rows}, f32);
    auto logs = torch::empty({rows}, f32);
    auto correct = torch::empty({rows}, f32);
    const std::int64_t* yp = y.data_ptr<std::int64_t>();
    float *lp = loss.data_ptr<float>(), *tp = top.data_ptr<float>(), *sp = logs.data_ptr<float>();
    float* cp = correct.data_ptr<float>();
    with_elements(x, [&](const auto* xp) {
      at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
        fused::cross_entropy_forward(xp, yp, cols, lp, tp, sp, cp, begin, end);
      });
    });
    // Row order, in double: the same sum on any thread count.
    double total = 0, right = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      total += lp[r];
      right += cp[r];
    }
    ctx->save_for_backward({x, y, top, logs});
    auto count = torch::tensor(static_cast<std::int64_t>(right));
    ctx->mark_non_differentiable({count});
    return {torch::tensor(static_cast<float>(total)), count};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &y = saved[1], &top = saved[2], &logs = saved[3];
    const std::int64_t rows = x.size(0), cols = x.size(1);
    const float scale = grads[0].item<float>();
    auto grad = torch::empty_like(x);
    const float *tp = top.data_ptr<float>(), *sp = logs.data_ptr<float>();
    const std::int64_t* yp = y.data_ptr<std::int64_t>();
    with_elements(x, [&](const auto* xp) {
      using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
      T* gp = reinterpret_cast<T*>(grad.data_ptr());
      at::parallel_for(0, rows, 1, [&](std::int64_t begin, std::int64_t end) {
        fused::cross_entropy_backward(xp, yp, tp, sp, scale, cols, gp, begin, end);
      });
    });
    return {grad, torch::Tensor()};
  }
};

}  // namespace

bool supports_layer_norm(const torch::Tensor& y, const torch::Tensor& residual, const torch::nn::LayerNorm& ln) {
  // y may be bf16 (autocast); the residual stream and the LayerNorm's
  // parameters are fp32.
  auto cpu_fp32 = [](const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == torch::kFloat; };
  return supports(y) && cpu_fp32(residual) && cpu_fp32(ln->weight) && cpu_fp32(ln->bias);
}

torch::Tensor dropout_add_layer_norm(const torch::Tensor& y, const torch::Tensor& residual, double p, bool training,
                                     const torch::nn::LayerNorm& layer_norm) {
  const auto& gamma = layer_norm->weight;
  const auto& beta = layer_norm->bias;
  TORCH_CHECK(supports_layer_norm(y, residual, layer_norm), "fused::dropout_add_layer_norm: unsupported tensors");
  TORCH_CHECK(p >= 0.0 && p < 1.0 && y.sizes() == residual.sizes() && gamma.dim() == 1 &&
                  y.size(-1) == gamma.size(0),
              "fused::dropout_add_layer_norm: y and residual must have one shape ending in the LayerNorm's size");
  return DropoutAddLayerNorm::apply(y, residual, gamma, beta, p, training, layer_norm->options.eps(),
                                    wants_grad({&y, &residual, &gamma, &beta}));
}

torch::Tensor masked_softmax_dropout(const torch::Tensor& scores, const torch::Tensor& additive_mask, double p,
                                     bool training, double scale) {
  TORCH_CHECK(supports(scores) && additive_mask.device().is_cpu(),
              "fused::masked_softmax_dropout: unsupported tensors");
  TORCH_CHECK(p >= 0.0 && p < 1.0 && scores.dim() == 4 && additive_mask.numel() == scores.size(0) * scores.size(3),
              "fused::masked_softmax_dropout: scores must be [B, heads, S, S] and the mask [B, 1, 1, S]");
  return MaskedSoftmaxDropout::apply(scores, additive_mask, p, training, scale);
}

torch::Tensor gelu(const torch::Tensor& x) {
  TORCH_CHECK(supports(x), "fused::gelu: unsupported tensor");
  return Gelu::apply(x);
}

std::pair<torch::Tensor, torch::Tensor> cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& labels) {
  TORCH_CHECK(supports(logits) && labels.device().is_cpu() && labels.scalar_type() == torch::kLong,
              "fused::cross_entropy_sum: unsupported tensors");
  TORCH_CHECK(logits.dim() == 2 && labels.dim() == 1 && labels.size(0) == logits.size(0),
              "fused::cross_entropy_sum: logits must be [M, V] and labels [M]");
  auto out = CrossEntropySum::apply(logits, labels);
  return {out[0], out[1]};
}

}  // namespace bf::model::fused
