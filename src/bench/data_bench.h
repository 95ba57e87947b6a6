#pragma once
// data bench: shard build MB/s and the loader's sequences/s against what a
// base-preset training step consumes (scripts/bench_data.sh).
#include <cstdint>
#include <string>
#include <vector>

namespace bf::bench {

struct DataBenchOptions {
  std::string config;
  std::vector<std::string> overrides;
  double seconds = 5;
  std::int64_t batch = 16;
  int threads = 0;
  double step_seconds = 6.0;  // a base-preset step at batch 16, seq 128 on this machine
  bool reuse = false;         // keep up-to-date shards instead of timing a fresh build
};

void run_data_bench(const DataBenchOptions& options);

}  // namespace bf::bench
