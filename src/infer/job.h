#pragma once
// A request made ready for the model: its sequences, tokenized on the
// caller's thread, and how their outputs become its answer. Each task's typed
// requests (finetune/classify, finetune/tagging, finetune/qa; embeddings in
// infer/embed) are built as jobs, so that `run_job` answers one alone and the
// server (serve/) batches the sequences of many jobs together, from many
// connections, through the same forward.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "infer/batches.h"
#include "infer/model.h"

namespace bf::infer {

// One sequence's share of its batch's outputs: its row, padding cut off,
// float32 on the CPU.
struct SequenceOutputs {
  torch::Tensor logits;                      // [C] sequence, [S, C] token classification
  torch::Tensor start_logits, end_logits;    // [S] question answering
  std::vector<torch::Tensor> hidden_states;  // Pass::Encoder: [S, H] per hidden state
  torch::Tensor pooler_output;               // Pass::Encoder: [H], undefined without a pooler
};

// Row `row` of a batch's outputs, its first `length` positions.
SequenceOutputs cut(const Outputs& outputs, std::int64_t row, std::int64_t length);

template <class Answer>
struct Job {
  Pass pass = Pass::Head;
  std::vector<std::vector<std::int32_t>> input_ids;
  std::vector<std::vector<std::int32_t>> token_type_ids;  // empty: every segment id 0
  // outputs[i] belongs to input_ids[i]. Runs on the thread that ran the
  // model (it may use the model, e.g. its label names).
  std::function<Answer(std::vector<SequenceOutputs>& outputs)> finish;
};

// The job's sequences as views for the batching loop.
std::vector<Sequence> sequences_of(const std::vector<std::vector<std::int32_t>>& input_ids,
                                   const std::vector<std::vector<std::int32_t>>& token_type_ids);

// One job alone through the batching loop.
template <class Answer>
Answer run_job(Model& model, Job<Answer>& job, std::int64_t batch_size = 64) {
  const auto sequences = sequences_of(job.input_ids, job.token_type_ids);
  std::vector<SequenceOutputs> outputs(sequences.size());
  run(model, sequences, {batch_size, 0, job.pass}, [&](const PaddedBatch& batch, const Outputs& out) {
    for (std::size_t r = 0; r < batch.index.size(); ++r) {
      const auto i = static_cast<std::size_t>(batch.index[r]);
      outputs[i] = cut(out, static_cast<std::int64_t>(r), sequences[i].size());
    }
  });
  return job.finish(outputs);
}

}  // namespace bf::infer
