#include "model/self_attention.h"
#include "model/fused/fused_ops.h"

#include <ATen/autocast_mode.h>

#include <cmath>

namespace bf::model {

namespace {

// The three projections' parameters as one. Under CPU autocast each is cast
// to bf16 first (autocast caches a leaf weight's cast for the step) and the
// bf16 copies are joined: the same values as joining in fp32 and letting the
// linear cast the result, for a third of the bytes moved.
torch::Tensor joined(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  if (!q.device().is_cpu() || !at::autocast::is_cpu_enabled()) return torch::cat({q, k, v}, 0);
  return torch::cat({autocast_cpu_cast(q), autocast_cpu_cast(k), autocast_cpu_cast(v)}, 0);
}

}  // namespace

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : heads_(c.num_attention_heads), head_dim_(c.head_dim()), dropout_(c.attention_probs_dropout_prob) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

// Scores, then scale, mask, softmax and dropout (bertforge's counter-based
// masks) in one pass (fused/fused_ops.h): scaling there rather than in the
// GEMM (baddbmm's alpha) spares backward two scaling passes over
// [B, heads, S, S]; the [B, 1, 1, S] mask is never broadcast to that shape.
torch::Tensor BertSelfAttentionImpl::seeded_attention(const torch::Tensor& q, const torch::Tensor& k,
                                                      const torch::Tensor& v, const torch::Tensor& additive_mask,
                                                      bool dropout_active) const {
  const auto batch = q.size(0);
  const auto seq = q.size(2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  auto q3 = q.reshape({batch * heads_, seq, head_dim_});
  auto k3 = k.reshape({batch * heads_, seq, head_dim_});
  auto scores = torch::bmm(q3, k3.transpose(1, 2));
  auto probs =
      masked_softmax_dropout(scores.view({batch, heads_, seq, seq}), additive_mask, dropout_, dropout_active, scale);
  return torch::bmm(probs.view({batch * heads_, seq, seq}), v.reshape({batch * heads_, seq, head_dim_}))
      .view({batch, heads_, seq, head_dim_});
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask) {
  const auto batch = hidden.size(0);
  const auto seq = hidden.size(1);
  // One GEMM for Q, K and V instead of three: better BLAS efficiency on small
  // hidden sizes, and one pass over the activations.
  auto weight = joined(query->weight, key->weight, value->weight);
  auto bias = joined(query->bias, key->bias, value->bias);
  auto qkv = linear(hidden, weight, bias);
  const bool dropout_active = is_training() && dropout_ > 0.0;
  // fp32 on CPU: heads read in place from qkv (fused/fused_ops.h).
  auto fused_context = qkv_attention(qkv, additive_mask, heads_, dropout_, dropout_active);
  if (fused_context.defined()) return fused_context;
  auto split = qkv.view({batch, seq, 3, heads_, head_dim_}).permute({2, 0, 3, 1, 4});
  // unbind, not split[i]: the backward of three selects would allocate and
  // zero the whole [3, ...] gradient three times.
  const auto parts = split.unbind(0);
  const auto &q = parts[0], &k = parts[1], &v = parts[2];  // [B, heads, S, head_dim]
  torch::Tensor context;
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
  // PyTorch's fused attention draws its dropout from the global generator,
  // not from our counter-based masks that exact resume relies on: use it only
  // where attention dropout is off (evaluation, predict, dropout 0).
  if (!dropout_active) context = at::scaled_dot_product_attention(q, k, v, additive_mask.to(q.dtype()), 0.0);
#endif
  if (!context.defined()) context = seeded_attention(q, k, v, additive_mask, dropout_active);
  return context.permute({0, 2, 1, 3}).reshape({batch, seq, heads_ * head_dim_});
}

BertSelfOutputImpl::BertSelfOutputImpl(const BertConfig& c) : dropout_(c.hidden_dropout_prob) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertSelfOutputImpl::forward(const torch::Tensor& attended, const torch::Tensor& residual) {
  return dropout_add_layer_norm(linear(attended, dense->weight, dense->bias), residual, dropout_, is_training(), LayerNorm);
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertSelfOutput(c));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask) {
  return output->forward(self->forward(hidden, additive_mask), hidden);
}

}  // namespace bf::model
