#include "model/pretraining_heads.h"

#include "model/activation.h"
#include "model/fused/fused_ops.h"

namespace bf::model {

BertPredictionHeadTransformImpl::BertPredictionHeadTransformImpl(const BertConfig& c) : act_(c.hidden_act) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertPredictionHeadTransformImpl::forward(const torch::Tensor& x) {
  // Normalised in the LayerNorm's own precision: under CPU autocast the dense
  // output is bf16 and LibTorch 1.13 does not cast layer_norm's input.
  auto y = activation(act_, linear(x, dense->weight, dense->bias));
  return LayerNorm->forward(y.to(LayerNorm->weight.scalar_type()));
}

MaskedLmHeadImpl::MaskedLmHeadImpl(const BertConfig& c) {
  transform = register_module("transform", BertPredictionHeadTransform(c));
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor MaskedLmHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  return linear(transform->forward(hidden), word_embeddings, bias);
}

BertPreTrainingHeadsImpl::BertPreTrainingHeadsImpl(const BertConfig& c) {
  predictions = register_module("predictions", MaskedLmHead(c));
  seq_relationship = register_module("seq_relationship", torch::nn::Linear(c.hidden_size, 2));
}

}  // namespace bf::model
