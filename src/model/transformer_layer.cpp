#include "model/transformer_layer.h"

#include "model/activation.h"
#include "model/dropout.h"
#include "model/fused/fused_ops.h"

namespace bf::model {

BertIntermediateImpl::BertIntermediateImpl(const BertConfig& c) : act_(c.hidden_act), fused_(c.fused_kernels) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& x) {
  // Frozen bf16 or int8 weights where asked (inference). fused::linear:
  // the GEMMs split over the threads by hand (CPU fp32). Else torch::linear
  // (addmm), not Linear::forward (C++: matmul + add_).
  auto y = frozen_ ? frozen_->forward(x)
           : fused_ && fused::supports_linear(x, dense->weight) ? fused::linear(x, dense->weight, dense->bias)
                                                                : torch::linear(x, dense->weight, dense->bias);
  // The exact GELU in one vectorised pass each way (bf16: from a table).
  if (fused_ && act_ == "gelu" && fused::supports(y)) return fused::gelu(y);
  return activation(act_, y);
}

BertOutputImpl::BertOutputImpl(const BertConfig& c) : dropout_(c.hidden_dropout_prob), fused_(c.fused_kernels) {
  dense = register_module("dense", torch::nn::Linear(c.intermediate_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  // Frozen bf16 or int8 weights where asked (inference). fused::linear:
  // the GEMMs split over the threads by hand (CPU fp32). Else torch::linear
  // (addmm), not Linear::forward (C++: matmul + add_).
  auto y = frozen_ ? frozen_->forward(x)
           : fused_ && fused::supports_linear(x, dense->weight) ? fused::linear(x, dense->weight, dense->bias)
                                                                : torch::linear(x, dense->weight, dense->bias);
  // Dropout, the residual add and LayerNorm in one pass per row, the mask
  // regenerated in backward rather than stored.
  if (fused_ && fused::supports_layer_norm(y, residual, LayerNorm))
    return fused::dropout_add_layer_norm(y, residual, dropout_, is_training(), LayerNorm);
  return LayerNorm->forward(bf::model::dropout(y, dropout_, is_training()) + residual);
}

BertLayerImpl::BertLayerImpl(const BertConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertOutput(c));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask) {
  auto attended = attention->forward(hidden, additive_mask);
  return output->forward(intermediate->forward(attended), attended);
}

}  // namespace bf::model
