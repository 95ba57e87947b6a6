#include "bench/data_bench.h"

#include <chrono>
#include <cstdio>

#include "data/corpus_builder.h"
#include "data/data_config.h"
#include "data/pretrain_loader.h"
#include "pretrain/pretrain_config.h"
#include "tokenizer/tokenizer.h"
#include "util/runtime.h"

namespace bf::bench {

using namespace bf::data;

void run_data_bench(const DataBenchOptions& args) {
  DataBuildConfig config = pretrain::read_data_build_config(args.config, args.overrides);
  const auto tokenizer = tok::load_tokenizer(config.tokenizer);
  BuildOptions build_options;
  build_options.force = !args.reuse;
  build_options.show_progress = false;
  const BuildResult built = build_corpus(config.data, *tokenizer, build_options);
  const int cores = available_cores();
  if (!built.skipped) std::printf("build: %.1f MB in %.2f s = %.2f MB/s (%d cores)\n", built.raw_bytes / 1e6, built.seconds,
              built.mb_per_second(), config.data.build_threads > 0 ? static_cast<int>(config.data.build_threads) : cores);

  const int threads = args.threads > 0 ? args.threads : cores;
  config.data.max_seq_length = 128;
  config.data.masking = "dynamic";
  LoaderOptions options = LoaderOptions::from_config(config.data, args.batch, 1234);
  options.tokenizer = TokenizerInfo::of(*tokenizer);
  options.num_threads = threads;
  PretrainLoader loader(options);
  loader.next();  // warm: the epoch plan, page cache
  const auto start = std::chrono::steady_clock::now();
  std::int64_t sequences = 0;
  double elapsed = 0;
  while (elapsed < args.seconds) {
    sequences += loader.next().batch_size();
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double rate = sequences / elapsed;
  const double consumed = args.batch / args.step_seconds;
  std::printf("loader: %lld sequences in %.2f s = %.0f sequences/s (seq 128, dynamic masking%s, batch %lld, %d threads)\n",
              static_cast<long long>(sequences), elapsed, rate, config.data.whole_word_masking ? ", whole words" : "",
              static_cast<long long>(args.batch), threads);
  std::printf("a base-preset step (batch %lld, seq 128, ~%.1f s) consumes %.1f sequences/s: loader is %.0fx that "
              "(target >= 20x)\n",
              static_cast<long long>(args.batch), args.step_seconds, consumed, rate / consumed);
}

}  // namespace bf::bench
