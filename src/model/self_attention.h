#pragma once
#include <torch/torch.h>

#include "model/bert_config.h"
#include "model/frozen_linear.h"

namespace bf::model {

// Multi-head self-attention. Parameters keep HF's separate query/key/value
// names; the forward pass runs them as one joined [3H, H] projection.
class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& config);
  // additive_mask: [B, 1, 1, S], 0 for tokens and -10000 for padding.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask);

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};

  // Inference from now on through the joined projection frozen in
  // `precision` (model/frozen_linear.h), made once from the current weights.
  void freeze(FrozenPrecision precision);

 private:
  torch::Tensor project_qkv(const torch::Tensor& hidden) const;

  std::int64_t heads_;
  std::int64_t head_dim_;
  double dropout_;
  bool fused_;  // BertConfig::fused_kernels
  std::shared_ptr<const FrozenLinear> frozen_;  // freeze
};
TORCH_MODULE(BertSelfAttention);

// Dense projection of the attention output, dropout, residual + LayerNorm.
class BertSelfOutputImpl : public torch::nn::Module {
 public:
  explicit BertSelfOutputImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& attended, const torch::Tensor& residual);

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};

  // Inference from now on through dense frozen in `precision` (model/frozen_linear.h).
  void freeze(FrozenPrecision precision) { frozen_ = freeze_linear(dense->weight, dense->bias, precision); }

 private:
  double dropout_;
  bool fused_;  // BertConfig::fused_kernels
  std::shared_ptr<const FrozenLinear> frozen_;  // freeze
};
TORCH_MODULE(BertSelfOutput);

class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask);

  BertSelfAttention self{nullptr};
  BertSelfOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

}  // namespace bf::model
