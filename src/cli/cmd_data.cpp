// bertforge data build | inspect  (and the hidden `data bench` behind scripts/bench_data.sh)
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "bench/data_bench.h"
#include "cli/commands.h"
#include "data/corpus_builder.h"
#include "data/data_config.h"
#include "data/inspect_view.h"
#include "pretrain/pretrain_config.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/runtime.h"

namespace bf::cli {
namespace {

using namespace bf::data;

struct BuildArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool force = false;
};

void run_build(const BuildArgs& args) {
  const DataBuildConfig config = pretrain::read_data_build_config(args.config, args.overrides);
  const auto tokenizer = tok::load_tokenizer(config.tokenizer);
  BuildOptions options;
  options.force = args.force;
  options.tokenizer_dir = std::filesystem::absolute(config.tokenizer).lexically_normal().string();
  const BuildResult result = build_corpus(config.data, *tokenizer, options);
  const Manifest& m = result.manifest;
  std::printf("%s %s: train %lld documents / %lld sentences / %lld tokens, heldout %lld documents / %lld tokens\n",
              result.skipped ? "up to date:" : "built", config.data.output.c_str(),
              static_cast<long long>(m.train.documents), static_cast<long long>(m.train.sentences),
              static_cast<long long>(m.train.tokens), static_cast<long long>(m.heldout.documents),
              static_cast<long long>(m.heldout.tokens));
  if (!result.skipped) {
    std::printf("%.1f MB of text in %.2f s: %.2f MB/s\n", result.raw_bytes / 1e6, result.seconds,
                result.mb_per_second());
  }
}

}  // namespace

void add_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Build and inspect pretraining shards");
  data->require_subcommand(1);

  auto build_args = std::make_shared<BuildArgs>();
  auto* build = data->add_subcommand("build", "Tokenize a corpus into shards (skipped when up to date)");
  build->add_option("--config", build_args->config, "YAML with tokenizer: and data: (a pretraining config works)")
      ->required();
  build->add_option("--set", build_args->overrides, "Override a config key, e.g. --set data.max_line_bytes=4096");
  build->add_flag("--force", build_args->force, "Rebuild even when the shards are up to date");
  build->callback([build_args] { run_build(*build_args); });

  auto inspect_args = std::make_shared<InspectOptions>();
  auto* inspect = data->add_subcommand("inspect", "Print corpus statistics and decoded example pairs");
  inspect->add_option("--data", inspect_args->data, "Shard directory")->required();
  inspect->add_option("--n", inspect_args->n, "Examples to print")->capture_default_str();
  inspect->add_option("--split", inspect_args->split, "train or heldout")->capture_default_str();
  inspect->add_option("--seed", inspect_args->seed, "Seed of the order and masks")->capture_default_str();
  inspect->add_option("--tokenizer", inspect_args->tokenizer, "Tokenizer directory (default: the one it was built with)");
  inspect->add_option("--set", inspect_args->overrides,
                      "Override an instance or masking key of the recorded config, e.g. --set data.mask_unit=span");
  inspect->add_flag("--json", inspect_args->json, "One JSON object per example per line (no statistics)");
  inspect->callback([inspect_args] { inspect_shards(*inspect_args); });

  auto bench_args = std::make_shared<bench::DataBenchOptions>();
  auto* bench = data->add_subcommand("bench", "Measure build and loader throughput (scripts/bench_data.sh)");
  bench->group("");  // hidden
  bench->add_option("--config", bench_args->config, "Data build config")->required();
  bench->add_option("--set", bench_args->overrides, "Override a config key");
  bench->add_option("--seconds", bench_args->seconds, "Loader measurement time")->capture_default_str();
  bench->add_option("--batch", bench_args->batch, "Batch size")->capture_default_str();
  bench->add_option("--threads", bench_args->threads, "Loader threads (0 = all cores)")->capture_default_str();
  bench->add_flag("--reuse", bench_args->reuse, "Reuse up-to-date shards (time only the loader)");
  bench->add_option("--step-seconds", bench_args->step_seconds, "Seconds per base-preset training step")
      ->capture_default_str();
  bench->callback([bench_args] { bench::run_data_bench(*bench_args); });
}

}  // namespace bf::cli
