#pragma once
// HF's BertForTokenClassification: the encoder without a pooler, dropout and
// a linear `classifier` [num_labels, H] on every position. The loss is the
// mean cross-entropy over the positions whose label is not -100 (padding,
// special tokens, the non-first pieces of a word).
#include <torch/torch.h>

#include "model/bert_model.h"

namespace bf::model {

struct TokenClassificationOutput {
  torch::Tensor logits;  // [B, S, num_labels]
  torch::Tensor loss;    // defined when labels were given
};

class BertForTokenClassificationImpl : public torch::nn::Module {
 public:
  explicit BertForTokenClassificationImpl(const BertConfig& config);
  TokenClassificationOutput forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                    const torch::Tensor& attention_mask, const torch::Tensor& labels = {});

  const BertConfig& config() const { return bert->config(); }

  BertModel bert{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(BertForTokenClassification);

// The summed cross-entropy over labelled positions and their count, so a
// caller can normalise by a whole step's labelled tokens (-100 = ignored).
struct TokenLoss {
  torch::Tensor sum;
  torch::Tensor count;
};
TokenLoss token_classification_loss_sum(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace bf::model
