#pragma once
// The one batching loop of inference. Sequences are sorted by length (longest
// first), cut into batches, each padded to its own longest (or to a fixed
// length) and run in eval mode without autograd; the caller gets each
// batch's outputs with the sequences' indices, so it can put them back in
// input order. evaluate, predict, embed, the probe, the fine-tuning tasks'
// dev evaluations and bench infer all run here, in the model's precision
// (Model::set_precision).
//
// For a server: a request thread prepares sequences (tokenize, windows), one
// worker owns the model and calls `plan_by_length`, `pad` and
// `forward_batch` (or `run`) over what is queued.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "infer/model.h"

namespace bf::infer {

// One input of the model: its pieces and their segment ids (null: all 0).
// Views: the vectors belong to the caller's examples, windows or features.
struct Sequence {
  const std::vector<std::int32_t>* input_ids = nullptr;
  const std::vector<std::int32_t>* token_type_ids = nullptr;
  std::int64_t size() const { return static_cast<std::int64_t>(input_ids->size()); }
};

struct PaddedBatch {
  torch::Tensor input_ids, token_type_ids, attention_mask;  // [B, S] int64 on the CPU, pad_id / 0 / 0 beyond each row
  std::vector<std::int64_t> index;                           // which sequence each row holds
};

// pad_to 0: the batch's longest sequence.
PaddedBatch pad(const std::vector<Sequence>& sequences, const std::vector<std::int64_t>& index, std::int32_t pad_id,
                std::int64_t pad_to = 0);

using BatchIndex = std::vector<std::vector<std::int64_t>>;
// Batches of similar lengths, longest first (equal lengths in input order).
BatchIndex plan_by_length(const std::vector<std::int64_t>& lengths, std::int64_t batch_size);
// Its two steps, which a training plan shares: sorting indices into
// `lengths` longest first (stable), cutting an order into batches.
void sort_longest_first(std::vector<std::int64_t>::iterator begin, std::vector<std::int64_t>::iterator end,
                        const std::vector<std::int64_t>& lengths);
BatchIndex cut_batches(const std::vector<std::int64_t>& order, std::int64_t batch_size);

// One forward of a batch on the model's device, in eval mode, no autograd,
// in the model's precision.
Outputs forward_batch(Model& model, const PaddedBatch& batch, Pass pass = Pass::Head);

struct RunOptions {
  std::int64_t batch_size = 64;
  std::int64_t pad_to = 0;  // 0: dynamic padding
  Pass pass = Pass::Head;
};

using Consumer = std::function<void(const PaddedBatch& batch, const Outputs& outputs)>;

// Every sequence through the model, batch by batch; the model's train/eval
// mode is restored afterwards.
void run(Model& model, const std::vector<Sequence>& sequences, const RunOptions& options, const Consumer& consume);

}  // namespace bf::infer
