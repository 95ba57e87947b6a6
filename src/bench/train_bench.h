#pragma once
// bench train: full pretraining steps (MLM + NSP forward, backward, AdamW)
// on synthetic, well-formed batches (the peer's method in
// shared/facts/peer-throughput.md), printed beside the GEMM peak.
#include <cstdint>
#include <string>

namespace bf::bench {

struct TrainBenchOptions {
  std::string preset = "mini";
  std::int64_t seq = 128;
  std::int64_t batch = 32;
  std::string precision = "fp32";
  int steps = 10;
  int warmup = 2;
  std::string device = "auto";
  bool all_positions = false;
  bool unfused = false;  // the model built with fused_kernels off: LibTorch's ops (before/after)
  std::string profile;
  std::string json;
};

void run_train_bench(const TrainBenchOptions& options);

}  // namespace bf::bench
