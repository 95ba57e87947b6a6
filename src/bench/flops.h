#pragma once
// Model FLOPs of one BERT pretraining step (forward + backward = 6 x the
// multiply-accumulates of the forward), the count benchmarks divide by time.
// The formulas are those of shared/facts/peer-throughput.md, so figures
// compare directly with the peer's.
#include <cstdint>

#include "model/bert_config.h"

namespace bf::bench {

struct StepFlops {
  double encoder_linears = 0;  // 6 L (4H^2 + 2HI) T
  double attention = 0;        // 12 L S^2 H B
  double mlm_transform = 0;    // 6 H^2 at each predicted position
  double mlm_decoder = 0;      // 6 H V at each predicted position
  double total() const { return encoder_linears + attention + mlm_transform + mlm_decoder; }
};

// `predicted_positions` is how many rows the MLM head runs on: B*S when it
// runs at every position (the peer), the labelled ones when only those.
// `training` false gives the forward alone (a third).
StepFlops pretraining_step_flops(const model::BertConfig& c, std::int64_t batch, std::int64_t seq,
                                 double predicted_positions, bool training = true);

// Encoder-only FLOPs of a classifier forward over the given token count with
// per-sequence attention cost sum(S_i^2) (dynamic padding makes it ragged).
double encoder_forward_flops(const model::BertConfig& c, double tokens, double sum_seq_squared);

}  // namespace bf::bench
