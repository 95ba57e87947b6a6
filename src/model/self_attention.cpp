#include "model/self_attention.h"

#include <ATen/autocast_mode.h>

#include <cmath>

#include "model/dropout.h"
#include "model/fused/fused_ops.h"

namespace bf::model {

namespace {

// The three projections' parameters as one. Under CPU autocast each is cast
// to bf16 first (autocast caches a leaf weight's cast for the step) and the
// bf16 copies are joined: the same values as joining in fp32 and letting the
// linear cast the result, for a third of the bytes moved.
torch::Tensor joined(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  if (!q.device().is_cpu() || !at::autocast::is_cpu_enabled()) return torch::cat({q, k, v}, 0);
  auto cast = [](const torch::Tensor& t) {
    return at::autocast::cached_cast(at::autocast::get_autocast_cpu_dtype(), t, c10::DeviceType::CPU);
  };
  return torch::cat({cast(q), cast(k), cast(v)}, 0);
}

}  // namespace

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : heads_(c.num_attention_heads),
      head_dim_(c.head_dim()),
      dropout_(c.attention_probs_dropout_prob),
      fused_(c.fused_kernels) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

// One GEMM for Q, K and V instead of three: better BLAS efficiency on small
// hidden sizes, and one pass over the activations.
torch::Tensor BertSelfAttentionImpl::project_qkv(const torch::Tensor& hidden) const {
  if (frozen_) return frozen_->forward(hidden);
  auto weight = joined(query->weight, key->weight, value->weight);
  auto bias = joined(query->bias, key->bias, value->bias);
  if (fused_ && fused::supports_linear(hidden, weight)) return fused::linear(hidden, weight, bias);
  return torch::linear(hidden, weight, bias);
}

void BertSelfAttentionImpl::freeze(FrozenPrecision precision) {
  torch::NoGradGuard no_grad;
  frozen_ = freeze_linear(joined(query->weight, key->weight, value->weight),
                          joined(query->bias, key->bias, value->bias), precision);
}

// dropout(softmax(Q K^T / sqrt(head_dim) + mask)) V by the first of these
// paths that runs here. All draw bertforge's counter-based dropout masks
// (exact resume relies on them), so they differ only in rounding.
torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask) {
  const bool dropout_active = is_training() && dropout_ > 0.0;
  const auto qkv = project_qkv(hidden);
  // 1. CPU fp32, fused (fused/qkv_attention.cpp): BLAS reads each head in
  //    place from qkv with its row stride, writes the context in place, and
  //    runs each (sequence, head) block's softmax while it is in cache; the
  //    paths below copy Q, K, V, the context and their gradients (about ten
  //    [B, S, H] copies per layer and step) because bmm wants heads contiguous.
  if (fused_ && fused::supports_qkv_attention(qkv))
    return fused::qkv_attention(qkv, additive_mask, heads_, dropout_, dropout_active);

  const auto batch = qkv.size(0), seq = qkv.size(1);
  // unbind, not split[i]: the backward of three selects would allocate and
  // zero the whole [3, ...] gradient three times.
  const auto parts = qkv.view({batch, seq, 3, heads_, head_dim_}).permute({2, 0, 3, 1, 4}).unbind(0);
  const auto &q = parts[0], &k = parts[1], &v = parts[2];  // [B, heads, S, head_dim], strided
  auto merged = [&](const torch::Tensor& context) {      // [B, heads, S, head_dim] -> [B, S, H]
    return context.permute({0, 2, 1, 3}).reshape({batch, seq, heads_ * head_dim_});
  };
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
  // 2. LibTorch 2's fused attention (CUDA, CPU bf16) where attention dropout
  //    is off (evaluation, predict, dropout 0): its dropout would draw from
  //    the global generator, not our masks.
  if (fused_ && !dropout_active)
    return merged(at::scaled_dot_product_attention(q, k, v, additive_mask.to(q.dtype()), 0.0));
#endif
  auto heads = [&](const torch::Tensor& t) { return t.reshape({batch * heads_, seq, head_dim_}); };  // copies
  auto scores = torch::bmm(heads(q), heads(k).transpose(1, 2)).view({batch, heads_, seq, seq});
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  torch::Tensor probs;
  if (fused_ && fused::supports(scores)) {
    // 3. CPU bf16 (autocast; the system BLAS has no bf16 GEMM for path 1):
    //    LibTorch's bmm, then scale, mask, softmax and dropout in one pass
    //    (fused/fused_ops.h). Scaling there rather than in the GEMM
    //    (baddbmm's alpha) spares backward two passes over [B, heads, S, S];
    //    the mask is never broadcast to that shape.
    probs = fused::masked_softmax_dropout(scores, additive_mask, dropout_, dropout_active, scale);
  } else {
    // 4. The manual implementation (CUDA, fused_kernels off), HF's: scaled
    //    and masked in place, so no second [B, heads, S, S] tensor.
    scores.mul_(scale).add_(additive_mask.to(scores.scalar_type()));
    probs = bf::model::dropout(torch::softmax(scores, -1), dropout_, dropout_active);
  }
  return merged(torch::bmm(probs.view({batch * heads_, seq, seq}), heads(v)).view({batch, heads_, seq, head_dim_}));
}

BertSelfOutputImpl::BertSelfOutputImpl(const BertConfig& c) : dropout_(c.hidden_dropout_prob), fused_(c.fused_kernels) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertSelfOutputImpl::forward(const torch::Tensor& attended, const torch::Tensor& residual) {
  // Frozen bf16 or int8 weights where asked (inference). fused::linear:
  // the GEMMs split over the threads by hand (CPU fp32). Else torch::linear
  // (addmm), not Linear::forward (C++: matmul + add_).
  auto y = frozen_ ? frozen_->forward(attended)
           : fused_ && fused::supports_linear(attended, dense->weight)
               ? fused::linear(attended, dense->weight, dense->bias)
               : torch::linear(attended, dense->weight, dense->bias);
  // Dropout, the residual add and LayerNorm in one pass per row, the mask
  // regenerated in backward rather than stored.
  if (fused_ && fused::supports_layer_norm(y, residual, LayerNorm))
    return fused::dropout_add_layer_norm(y, residual, dropout_, is_training(), LayerNorm);
  return LayerNorm->forward(bf::model::dropout(y, dropout_, is_training()) + residual);
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertSelfOutput(c));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask) {
  return output->forward(self->forward(hidden, additive_mask), hidden);
}

}  // namespace bf::model
