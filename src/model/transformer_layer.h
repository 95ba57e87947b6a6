#pragma once
#include <torch/torch.h>

#include "model/bert_config.h"
#include "model/frozen_linear.h"
#include "model/self_attention.h"

namespace bf::model {

// The feed-forward expansion: dense to intermediate_size + activation.
class BertIntermediateImpl : public torch::nn::Module {
 public:
  explicit BertIntermediateImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear dense{nullptr};

  // Inference from now on through dense frozen in `precision` (model/frozen_linear.h).
  void freeze(FrozenPrecision precision) { frozen_ = freeze_linear(dense->weight, dense->bias, precision); }

 private:
  std::string act_;
  bool fused_;  // BertConfig::fused_kernels
  std::shared_ptr<const FrozenLinear> frozen_;  // freeze
};
TORCH_MODULE(BertIntermediate);

// The feed-forward projection back to hidden_size, dropout, residual + LayerNorm.
class BertOutputImpl : public torch::nn::Module {
 public:
  explicit BertOutputImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};

  // Inference from now on through dense frozen in `precision` (model/frozen_linear.h).
  void freeze(FrozenPrecision precision) { frozen_ = freeze_linear(dense->weight, dense->bias, precision); }

 private:
  double dropout_;
  bool fused_;  // BertConfig::fused_kernels
  std::shared_ptr<const FrozenLinear> frozen_;  // freeze
};
TORCH_MODULE(BertOutput);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask);

  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

}  // namespace bf::model
