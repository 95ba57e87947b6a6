#include "model/pretraining_heads.h"

#include "model/activation.h"
#include "model/fused/fused_ops.h"

namespace bf::model {

BertPredictionHeadTransformImpl::BertPredictionHeadTransformImpl(const BertConfig& c)
    : act_(c.hidden_act), fused_(c.fused_kernels) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertPredictionHeadTransformImpl::forward(const torch::Tensor& x) {
  // fused::linear: the GEMMs split over the threads by hand (CPU fp32). Else
  // torch::linear (addmm), not Linear::forward (C++: matmul + add_).
  auto y = fused_ && fused::supports_linear(x, dense->weight) ? fused::linear(x, dense->weight, dense->bias)
                                                              : torch::linear(x, dense->weight, dense->bias);
  // The exact GELU in one vectorised pass each way (bf16: from a table).
  y = fused_ && act_ == "gelu" && fused::supports(y) ? fused::gelu(y) : activation(act_, y);
  // Normalised in the LayerNorm's own precision: under CPU autocast the dense
  // output is bf16 and LibTorch 1.13 does not cast layer_norm's input.
  return LayerNorm->forward(y.to(LayerNorm->weight.scalar_type()));
}

MaskedLmHeadImpl::MaskedLmHeadImpl(const BertConfig& c) : fused_(c.fused_kernels) {
  transform = register_module("transform", BertPredictionHeadTransform(c));
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor MaskedLmHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings) {
  const auto x = transform->forward(hidden);
  // fused::linear: in fp32 the GEMMs split over the threads by hand (by the
  // vocabulary's columns here); under bf16 autocast the weight gradient in
  // blocks of 4,096 of the vocabulary's rows.
  if (fused_ && fused::supports_linear(x, word_embeddings)) return fused::linear(x, word_embeddings, bias);
  return torch::linear(x, word_embeddings, bias);
}

BertPreTrainingHeadsImpl::BertPreTrainingHeadsImpl(const BertConfig& c) {
  predictions = register_module("predictions", MaskedLmHead(c));
  seq_relationship = register_module("seq_relationship", torch::nn::Linear(c.hidden_size, 2));
}

}  // namespace bf::model
