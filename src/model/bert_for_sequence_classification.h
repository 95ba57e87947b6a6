#pragma once
#include <torch/torch.h>

#include "model/bert_model.h"
#include "model/classifier_heads.h"

namespace bf::model {

struct ClassificationOutput {
  torch::Tensor logits;  // [B, num_labels]
  torch::Tensor loss;    // defined when labels were given
};

// HF's BertForSequenceClassification: dropout + linear on the pooled output,
// with the parameter names transformers uses (bert.*, classifier.*). The head
// that makes the pooled output is chosen by config.extra["bertforge_head"]
// (see classifier_heads.h); without it this is HF's model exactly. Heads other
// than the pooler carry their parameters under head.* and drop bert.pooler.
// The loss follows config.problem_type, or is inferred as HF infers it:
// num_labels == 1 -> regression (MSE); integer labels -> single-label
// cross-entropy; float labels -> multi-label BCE with logits.
class BertForSequenceClassificationImpl : public torch::nn::Module {
 public:
  explicit BertForSequenceClassificationImpl(const BertConfig& config);
  ClassificationOutput forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                               const torch::Tensor& attention_mask, const torch::Tensor& labels = {});

  const BertConfig& config() const { return bert->config(); }

  BertModel bert{nullptr};
  ClassifierHead head{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(BertForSequenceClassification);

// The problem type HF would pick for these labels.
std::string infer_problem_type(const BertConfig& config, const torch::Tensor& labels);
torch::Tensor classification_loss(const std::string& problem_type, const torch::Tensor& logits,
                                  const torch::Tensor& labels);

}  // namespace bf::model
