// Attention read straight out of the fused Q/K/V projection. Each (sequence,
// head) block runs scores, softmax + dropout and the context in turn while
// its rows are in cache, on one thread; BLAS takes a head's [S, head_dim]
// block of qkv with its row stride 3H, so nothing is copied to make heads
// contiguous, and the context and the three gradients are written in place.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <cmath>

#include "model/fused/blas.h"
#include "model/fused/fused_ops.h"
#include "model/fused/kernels.h"
#include "model/fused/op_support.h"

namespace bf::model::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using namespace support;

// The shapes of one call: qkv [batch, seq, 3 * hidden], hidden = heads * head_dim.
struct Dims {
  std::int64_t batch, seq, heads, head_dim;
  std::int64_t hidden() const { return heads * head_dim; }
  std::int64_t row() const { return 3 * hidden(); }  // qkv's row stride
  std::int64_t blocks() const { return batch * heads; }
  // Where block (b, h)'s query rows start in qkv; key and value follow at
  // + hidden and + 2 * hidden.
  std::int64_t query_offset(std::int64_t block) const {
    return (block / heads) * seq * row() + (block % heads) * head_dim;
  }
  std::int64_t context_offset(std::int64_t block) const {
    return (block / heads) * seq * hidden() + (block % heads) * head_dim;
  }
};

Dims dims_of(const torch::Tensor& qkv, std::int64_t heads) {
  return {qkv.size(0), qkv.size(1), heads, qkv.size(2) / (3 * heads)};
}

struct QkvAttention : torch::autograd::Function<QkvAttention> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& qkv, const torch::Tensor& mask,
                               std::int64_t heads, double p, bool training, bool keep) {
    RECORD_FUNCTION("bf::qkv_attention", std::vector<c10::IValue>());
    auto x = qkv.contiguous();
    const Dims d = dims_of(x, heads);
    const std::int64_t S = d.seq, H = d.hidden(), row = d.row(), hd = d.head_dim;
    auto m = mask.reshape({d.batch, S}).to(torch::kFloat).contiguous();
    const fused::SoftmaxArgs a{m.data_ptr<float>(), heads * S, S, maybe_draw(p, training)};
    auto probs = torch::empty({d.batch, heads, S, S}, x.options());
    auto dropped = a.dropout.active() ? torch::empty_like(probs) : probs;
    auto context = torch::empty({d.batch, S, H}, x.options());
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
    const float* xp = x.data_ptr<float>();
    float *pp = probs.data_ptr<float>(), *dp = dropped.data_ptr<float>(), *cp = context.data_ptr<float>();
    at::parallel_for(0, d.blocks(), 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t k = begin; k < end; ++k) {
        const float* q = xp + d.query_offset(k);
        // Scores go into probs' block; softmax then works on it in place.
        fused::gemm(false, true, S, S, hd, scale, q, row, q + H, row, 0.0f, pp + k * S * S, S);
        fused::masked_softmax_dropout_forward(pp, a, pp, dp, k * S, (k + 1) * S);
        fused::gemm(false, false, S, hd, S, 1.0f, dp + k * S * S, S, q + 2 * H, row, 0.0f, cp + d.context_offset(k),
                    H);
      }
    });
    if (keep) {
      ctx->save_for_backward({x, probs, dropped});
      save_draw(ctx, a.dropout);
      ctx->saved_data["heads"] = heads;
    }
    return context;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &probs = saved[1], &dropped = saved[2];
    const Dims d = dims_of(x, ctx->saved_data["heads"].toInt());
    const std::int64_t S = d.seq, H = d.hidden(), row = d.row(), hd = d.head_dim;
    const fused::SoftmaxArgs a{nullptr, 1, S, load_draw(ctx)};
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
    const auto grad_context = grads[0].contiguous();
    auto grad_x = torch::empty_like(x);
    // Gradient of the dropped weights, then (in place) of the scores.
    auto grad_weights = torch::empty_like(probs);
    const float *xp = x.data_ptr<float>(), *pp = probs.data_ptr<float>(), *dp = dropped.data_ptr<float>();
    const float* gc = grad_context.data_ptr<float>();
    float *gx = grad_x.data_ptr<float>(), *gw = grad_weights.data_ptr<float>();
    at::parallel_for(0, d.blocks(), 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t k = begin; k < end; ++k) {
        const float* q = xp + d.query_offset(k);
        const float* gck = gc + d.context_offset(k);
        float* gq = gx + d.query_offset(k);
        float* gwk = gw + k * S * S;
        fused::gemm(false, true, S, S, hd, 1.0f, gck, H, q + 2 * H, row, 0.0f, gwk, S);                // dC V^T
        fused::gemm(true, false, S, hd, S, 1.0f, dp + k * S * S, S, gck, H, 0.0f, gq + 2 * H, row);    // dV
        fused::masked_softmax_dropout_backward(gw, pp, a, gw, k * S, (k + 1) * S);                     // dScores
        fused::gemm(false, false, S, hd, S, scale, gwk, S, q + H, row, 0.0f, gq, row);                 // dQ
        fused::gemm(true, false, S, hd, S, scale, gwk, S, q, row, 0.0f, gq + H, row);                  // dK
      }
    });
    return {grad_x, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool supports_qkv_attention(const torch::Tensor& qkv) {
  return qkv.device().is_cpu() && qkv.scalar_type() == torch::kFloat;
}

torch::Tensor qkv_attention(const torch::Tensor& qkv, const torch::Tensor& additive_mask, std::int64_t heads,
                            double p, bool training) {
  TORCH_CHECK(supports_qkv_attention(qkv) && additive_mask.device().is_cpu(),
              "fused::qkv_attention: unsupported tensors");
  TORCH_CHECK(p >= 0.0 && p < 1.0 && heads > 0 && qkv.dim() == 3 && qkv.size(2) % (3 * heads) == 0 &&
                  additive_mask.numel() == qkv.size(0) * qkv.size(1),
              "fused::qkv_attention: qkv must be [B, S, 3H] with H divisible by heads, the mask [B, 1, 1, S]");
  return QkvAttention::apply(qkv, additive_mask, heads, p, training, wants_grad({&qkv}));
}

}  // namespace bf::model::fused
