#include "model/transformer_layer.h"
#include "model/fused/fused_ops.h"

#include "model/activation.h"

namespace bf::model {

BertIntermediateImpl::BertIntermediateImpl(const BertConfig& c) : act_(c.hidden_act) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& x) { return activation(act_, linear(x, dense->weight, dense->bias)); }

BertOutputImpl::BertOutputImpl(const BertConfig& c) : dropout_(c.hidden_dropout_prob) {
  dense = register_module("dense", torch::nn::Linear(c.intermediate_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return dropout_add_layer_norm(linear(x, dense->weight, dense->bias), residual, dropout_, is_training(), LayerNorm);
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
