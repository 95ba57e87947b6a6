#pragma once
#include <torch/torch.h>

#include "model/bert_config.h"

namespace bf::model {

// dense + activation + LayerNorm before the vocabulary projection.
class BertPredictionHeadTransformImpl : public torch::nn::Module {
 public:
  explicit BertPredictionHeadTransformImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};

 private:
  std::string act_;
  bool fused_;  // BertConfig::fused_kernels
};
TORCH_MODULE(BertPredictionHeadTransform);

// The masked-LM head. Its decoder weight is the word embedding matrix (tied),
// passed in at call time so there is one tensor, one gradient and one
// optimizer slot for it; only the output bias is the head's own.
class MaskedLmHeadImpl : public torch::nn::Module {
 public:
  explicit MaskedLmHeadImpl(const BertConfig& config);
  // hidden: [..., H] -> logits [..., V]
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& word_embeddings);

  BertPredictionHeadTransform transform{nullptr};
  torch::Tensor bias;

 private:
  bool fused_;  // BertConfig::fused_kernels
};
TORCH_MODULE(MaskedLmHead);

// HF's BertPreTrainingHeads: `predictions` (MLM) and `seq_relationship` (NSP).
class BertPreTrainingHeadsImpl : public torch::nn::Module {
 public:
  explicit BertPreTrainingHeadsImpl(const BertConfig& config);

  MaskedLmHead predictions{nullptr};
  torch::nn::Linear seq_relationship{nullptr};
};
TORCH_MODULE(BertPreTrainingHeads);

}  // namespace bf::model
