#include "data/pretrain_batch.h"

#include "data/sample_source.h"
#include "util/error.h"

namespace bf::data {

std::int64_t PretrainBatch::num_masked() const { return masked_labels.ne(-100).sum().item<std::int64_t>(); }

PretrainBatch collate(const std::vector<const Sample*>& samples, std::int64_t seq_length, std::int64_t max_predictions,
                      std::int32_t pad_id) {
  const auto rows = static_cast<std::int64_t>(samples.size());
  const auto options = torch::TensorOptions().dtype(torch::kInt64);
  PretrainBatch batch;
  batch.input_ids = torch::full({rows, seq_length}, pad_id, options);
  batch.token_type_ids = torch::zeros({rows, seq_length}, options);
  batch.attention_mask = torch::zeros({rows, seq_length}, options);
  batch.masked_positions = torch::zeros({rows, max_predictions}, options);
  batch.masked_labels = torch::full({rows, max_predictions}, -100, options);
  batch.next_sentence_label = torch::empty({rows}, options);
  auto* ids = batch.input_ids.data_ptr<std::int64_t>();
  auto* types = batch.token_type_ids.data_ptr<std::int64_t>();
  auto* attention = batch.attention_mask.data_ptr<std::int64_t>();
  auto* positions = batch.masked_positions.data_ptr<std::int64_t>();
  auto* labels = batch.masked_labels.data_ptr<std::int64_t>();
  auto* nsp = batch.next_sentence_label.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const Sample& s = *samples[static_cast<std::size_t>(r)];
    const auto length = static_cast<std::int64_t>(s.instance.tokens.size());
    const auto predictions = static_cast<std::int64_t>(s.masked_positions.size());
    if (length > seq_length || predictions > max_predictions) {
      bf::fail("internal: sample longer than the batch shape (" + std::to_string(length) + " tokens, " +
               std::to_string(predictions) + " predictions)");
    }
    for (std::int64_t i = 0; i < length; ++i) {
      ids[r * seq_length + i] = s.instance.tokens[static_cast<std::size_t>(i)];
      types[r * seq_length + i] = s.instance.segment_ids[static_cast<std::size_t>(i)];
      attention[r * seq_length + i] = 1;
    }
    for (std::int64_t p = 0; p < predictions; ++p) {
      positions[r * max_predictions + p] = s.masked_positions[static_cast<std::size_t>(p)];
      labels[r * max_predictions + p] = s.masked_labels[static_cast<std::size_t>(p)];
    }
    nsp[r] = s.instance.next_sentence_label;
  }
  if (!samples.empty()) {
    batch.epoch = samples.front()->epoch;
    batch.position = samples.front()->position;
  }
  return batch;
}

torch::Tensor dense_mlm_labels(const PretrainBatch& batch) {
  const std::int64_t rows = batch.input_ids.size(0);
  const std::int64_t seq = batch.input_ids.size(1);
  const std::int64_t predictions = batch.masked_positions.size(1);
  torch::Tensor dense = torch::full({rows, seq}, -100, torch::TensorOptions().dtype(torch::kInt64));
  const auto positions = batch.masked_positions.contiguous();
  const auto labels = batch.masked_labels.contiguous();
  const auto* pos = positions.data_ptr<std::int64_t>();
  const auto* lab = labels.data_ptr<std::int64_t>();
  auto* out = dense.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t p = 0; p < predictions; ++p) {
      const std::int64_t label = lab[r * predictions + p];
      if (label != -100) out[r * seq + pos[r * predictions + p]] = label;
    }
  }
  return dense;
}

}  // namespace bf::data
