#include "bench/flops.h"

namespace bf::bench {

StepFlops pretraining_step_flops(const model::BertConfig& c, std::int64_t batch, std::int64_t seq,
                                 double predicted_positions, bool training) {
  const double L = static_cast<double>(c.num_hidden_layers);
  const double H = static_cast<double>(c.hidden_size);
  const double I = static_cast<double>(c.intermediate_size);
  const double V = static_cast<double>(c.vocab_size);
  const double B = static_cast<double>(batch);
  const double S = static_cast<double>(seq);
  const double T = B * S;
  // 2 FLOPs per multiply-accumulate forward, 4 more backward.
  const double k = training ? 6.0 : 2.0;
  StepFlops f;
  f.encoder_linears = k * L * (4 * H * H + 2 * H * I) * T;
  f.attention = 2 * k * L * S * S * H * B;
  f.mlm_transform = k * H * H * predicted_positions;
  f.mlm_decoder = k * H * V * predicted_positions;
  return f;
}

double encoder_forward_flops(const model::BertConfig& c, double tokens, double sum_seq_squared) {
  const double L = static_cast<double>(c.num_hidden_layers);
  const double H = static_cast<double>(c.hidden_size);
  const double I = static_cast<double>(c.intermediate_size);
  return 2 * L * (4 * H * H + 2 * H * I) * tokens + 4 * L * H * sum_seq_squared;
}

}  // namespace bf::bench
