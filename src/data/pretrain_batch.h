#pragma once
// A batch for BERT pretraining, fixed shape [B, S] with P = max_predictions_per_seq.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace bf::data {

struct Sample;

struct PretrainBatch {
  torch::Tensor input_ids;            // [B, S] int64
  torch::Tensor token_type_ids;       // [B, S] int64
  torch::Tensor attention_mask;       // [B, S] int64, 1 = token, 0 = padding
  torch::Tensor masked_positions;     // [B, P] int64 positions in [0, S); 0 where unused
  torch::Tensor masked_labels;        // [B, P] int64 original ids; -100 where unused
  torch::Tensor next_sentence_label;  // [B] int64: 0 = B follows A, 1 = random B (HF); -100 without NSP
  std::int64_t epoch = 0;             // where this batch sits in the data order
  std::int64_t position = 0;          // global sample position of this step (the same on every rank)

  std::int64_t num_masked() const;    // labels != -100
  std::int64_t batch_size() const { return input_ids.size(0); }
};

// Stacks samples into a batch, padding to seq_length and max_predictions.
PretrainBatch collate(const std::vector<const Sample*>& samples, std::int64_t seq_length, std::int64_t max_predictions,
                      std::int32_t pad_id);

// Labels as HF's BertForPreTraining takes them: [B, S], the original id at
// masked positions and -100 everywhere else.
torch::Tensor dense_mlm_labels(const PretrainBatch& batch);

}  // namespace bf::data
