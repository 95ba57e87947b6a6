#include "bench/tokenizer_bench.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <vector>

#include "util/fs.h"
#include "util/runtime.h"

namespace bf::bench {
namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct BenchRun {
  double wall_s = 0;
  double cpu_s = 0;  // all threads; on a shared machine MB per CPU-second is the per-core speed
  std::size_t tokens = 0;
};

BenchRun time_encode_batch(const tok::Tokenizer& tokenizer, const std::vector<std::string>& lines, int threads) {
  BenchRun run;
  const double cpu_start = process_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto encodings = tokenizer.encode_batch(lines, threads);
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.cpu_s = process_cpu_seconds() - cpu_start;
  for (const auto& e : encodings) run.tokens += e.ids.size();
  return run;
}

}  // namespace

void run_tokenizer_bench(const tok::Tokenizer& tokenizer, const std::string& input, int threads_asked, int repeat) {
  const std::string text = read_file(input);
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.emplace_back(text, start, end - start);
    start = end + 1;
  }
  const double megabytes = static_cast<double>(text.size()) / 1e6;
  const int cores = threads_asked > 0 ? threads_asked : available_cores();
  std::printf("%s on %s: %.1f MB, %zu lines\n", tokenizer.type().c_str(), input.c_str(), megabytes,
              lines.size());
  double single = 0;
  for (int threads : {1, cores}) {
    BenchRun best;
    best.wall_s = std::numeric_limits<double>::max();
    for (int r = 0; r < repeat; ++r) {
      const BenchRun run = time_encode_batch(tokenizer, lines, threads);
      if (run.wall_s < best.wall_s) best = run;
    }
    const double rate = megabytes / best.wall_s;
    if (threads == 1) single = rate;
    std::printf("  %2d thread%s: %7.1f MB/s wall, %.2fx one thread  (%.2f s; %.1f MB per CPU-second; %zu tokens)\n",
                threads, threads == 1 ? " " : "s", rate, rate / single, best.wall_s, megabytes / best.cpu_s,
                best.tokens);
  }
}

}  // namespace bf::bench
