#pragma once
// HF's BertForQuestionAnswering: the encoder without a pooler and a linear
// `qa_outputs` [2, H] (row 0 the start logits, row 1 the end logits). The
// loss is (CE(start) + CE(end)) / 2, with gold positions outside the
// sequence clamped to the ignored index (the sequence length), as HF does.
#include <torch/torch.h>

#include "model/bert_model.h"

namespace bf::model {

struct QuestionAnsweringOutput {
  torch::Tensor start_logits;  // [B, S]
  torch::Tensor end_logits;    // [B, S]
  torch::Tensor loss;          // defined when positions were given
};

class BertForQuestionAnsweringImpl : public torch::nn::Module {
 public:
  explicit BertForQuestionAnsweringImpl(const BertConfig& config);
  QuestionAnsweringOutput forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                  const torch::Tensor& attention_mask, const torch::Tensor& start_positions = {},
                                  const torch::Tensor& end_positions = {});

  const BertConfig& config() const { return bert->config(); }

  BertModel bert{nullptr};
  torch::nn::Linear qa_outputs{nullptr};
};
TORCH_MODULE(BertForQuestionAnswering);

// Summed start and end cross-entropies and the count of counted examples
// (positions clamped to the sequence length are ignored), so a caller can
// normalise by a whole step; the HF loss is (start + end) / (2 * count).
struct SpanLoss {
  torch::Tensor start_sum, end_sum, start_count, end_count;
};
SpanLoss span_loss_sum(const torch::Tensor& start_logits, const torch::Tensor& end_logits,
                       const torch::Tensor& start_positions, const torch::Tensor& end_positions);

}  // namespace bf::model
