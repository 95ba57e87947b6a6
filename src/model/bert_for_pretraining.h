#pragma once
#include <torch/torch.h>

#include <functional>

#include "model/bert_model.h"
#include "model/pretraining_heads.h"

namespace bf::model {

struct PreTrainingInputs {
  torch::Tensor input_ids;       // [B, S]
  torch::Tensor token_type_ids;  // [B, S]
  torch::Tensor attention_mask;  // [B, S]
  // Either dense labels [B, S] (-100 = not predicted) ...
  torch::Tensor mlm_labels;
  // ... or the compact form the data loader produces: [B, P] positions and labels.
  torch::Tensor masked_positions;
  torch::Tensor masked_labels;
  torch::Tensor next_sentence_label;  // [B], 0 = B follows A, 1 = random
  // Divisors for the summed losses. 0 = this batch's own count. Gradient
  // accumulation and data parallelism pass the totals of the whole step so that
  // k micro-batches equal one large batch exactly.
  double mlm_denominator = 0;
  double nsp_denominator = 0;
};

struct PreTrainingOutput {
  torch::Tensor prediction_logits;        // [B, S, V] when all positions are asked for, else [N, V]
  torch::Tensor seq_relationship_logits;  // [B, 2]
  torch::Tensor last_hidden_state;
  torch::Tensor pooler_output;
  torch::Tensor mlm_loss;      // mean over predicted positions (or sum / mlm_denominator)
  torch::Tensor nsp_loss;      // mean over the batch (or sum / nsp_denominator)
  torch::Tensor loss;          // mlm_loss + nsp_loss (whichever are defined)
  torch::Tensor mlm_loss_sum;  // detached, fp32
  torch::Tensor mlm_correct;   // detached count of argmax == label
  std::int64_t mlm_count = 0;  // predicted positions in this batch
  torch::Tensor nsp_loss_sum;
  torch::Tensor nsp_correct;
};

// BERT with the MLM and NSP heads (HF's BertForPreTraining).
class BertForPreTrainingImpl : public torch::nn::Module {
 public:
  explicit BertForPreTrainingImpl(const BertConfig& config);
  // all_position_logits: compute the vocabulary projection at every position
  // (HF's output, used for parity checks). Otherwise only at labelled
  // positions, which is where the loss needs it and most of the FLOPs go.
  PreTrainingOutput forward(const PreTrainingInputs& inputs, bool all_position_logits = false);

  const BertConfig& config() const { return bert->config(); }

  BertModel bert{nullptr};
  BertPreTrainingHeads cls{nullptr};
  // Given the decoder's part of the tied word embedding gradient as backward
  // computes it (model/word_embedding_gradient.h).
  std::function<void(const torch::Tensor& grad)> on_decoder_gradient;

 private:
  torch::Tensor decoder_weight() const;
};
TORCH_MODULE(BertForPreTraining);

}  // namespace bf::model
