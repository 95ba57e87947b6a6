#include <catch2/catch.hpp>

#include "bench/flops.h"
#include "model/bert_config.h"

using bf::model::BertConfig;

TEST_CASE("step FLOPs match the table of shared/facts/peer-throughput.md", "[bench][flops]") {
  // mini B32 S128: 77.3 + 6.4 + 1.6 + 192.0 = 277.4 GFLOP with the decoder at every position.
  const auto mini = bf::bench::pretraining_step_flops(BertConfig::preset("mini"), 32, 128, 32 * 128);
  CHECK(mini.encoder_linears / 1e9 == Approx(77.3).margin(0.05));
  CHECK(mini.attention / 1e9 == Approx(6.4).margin(0.05));
  CHECK(mini.mlm_transform / 1e9 == Approx(1.6).margin(0.05));
  CHECK(mini.mlm_decoder / 1e9 == Approx(192.0).margin(0.05));
  CHECK(mini.total() / 1e9 == Approx(277.4).margin(0.1));
  // base B16 S128: 1043.7 + 29.0 + 7.2 + 288.0 = 1368.0.
  const auto base = bf::bench::pretraining_step_flops(BertConfig::preset("base"), 16, 128, 16 * 128);
  CHECK(base.total() / 1e9 == Approx(1368.0).margin(0.2));
  // The forward alone is a third.
  const auto forward = bf::bench::pretraining_step_flops(BertConfig::preset("base"), 16, 128, 16 * 128, false);
  CHECK(forward.total() * 3 == Approx(base.total()));
}
