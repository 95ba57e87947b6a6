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
#include "data/corpus_stats.h"
#include "data/data_config.h"
#include "data/pretrain_loader.h"
#include "data/sample_source.h"
#include "data/segmentation_counters.h"
#include "data/token_corpus.h"
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
  const DataBuildConfig config = read_data_build_config(args.config, args.overrides);
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

// The data config the shards were built with, for inspect's defaults.
DataConfig recorded_config(const Manifest& manifest, const std::string& dir) {
  if (manifest.config_yaml.empty()) return DataConfig{};
  return read_config_node<DataConfig>(YAML::Load(manifest.config_yaml), dir + "/manifest.json (config)");
}

std::string piece(const tok::Tokenizer* tokenizer, std::int32_t id) {
  return tokenizer ? tokenizer->id_to_token(id) : std::to_string(id);
}

void print_example(const Sample& s, const tok::Tokenizer* tokenizer, const tok::SpecialIds& special, int index) {
  const Instance& inst = s.instance;
  const char* nsp = inst.next_sentence_label == 1   ? "1 (B is random, from another document)"
                    : inst.next_sentence_label == 0 ? "0 (B follows A)"
                                                    : "none (MLM only)";
  std::printf("\n--- example %d: epoch %lld, position %lld, %zu tokens, next_sentence_label %s\n", index,
              static_cast<long long>(s.epoch), static_cast<long long>(s.position), inst.tokens.size(), nsp);
  std::printf("    A: document %u sentences [%u, %u)", inst.a_doc, inst.a_first, inst.a_end);
  if (inst.next_sentence_label != -100) std::printf("   B: document %u sentences [%u, %u)", inst.b_doc, inst.b_first, inst.b_end);
  std::printf("\n");
  std::size_t next_mask = 0;
  std::string line = "    ";
  for (std::size_t i = 0; i < inst.tokens.size(); ++i) {
    std::string text = piece(tokenizer, inst.tokens[i]);
    if (next_mask < s.masked_positions.size() && s.masked_positions[next_mask] == static_cast<std::int32_t>(i)) {
      const std::int32_t label = s.masked_labels[next_mask++];
      const std::string original = piece(tokenizer, label);
      if (inst.tokens[i] == special.mask) {
        text = "[MASK:" + original + "]";
      } else if (inst.tokens[i] == label) {
        text = "[KEEP:" + original + "]";
      } else {
        text = "[RAND:" + text + "→" + original + "]";
      }
    }
    line += text + " ";
  }
  std::printf("%s\n    %zu predictions ([MASK:x] masked, [RAND:y→x] replaced by y, [KEEP:x] kept; x = label)\n",
              line.c_str(), s.masked_positions.size());
}

struct InspectArgs {
  std::string data;
  std::string tokenizer;
  std::string split = "train";
  int n = 5;
  std::int64_t seed = 0;
  std::int64_t stats_samples = 20000;
};

void run_inspect(const InspectArgs& args) {
  const Manifest manifest = Manifest::load(args.data);
  std::unique_ptr<tok::Tokenizer> tokenizer;
  const std::string tokenizer_dir = args.tokenizer.empty() ? manifest.tokenizer.dir : args.tokenizer;
  if (!tokenizer_dir.empty()) {
    try {
      tokenizer = tok::load_tokenizer(tokenizer_dir);
      manifest.check_tokenizer(TokenizerInfo::of(*tokenizer), args.data);
    } catch (const bf::Error& e) {
      spdlog::warn("cannot decode with the tokenizer at {} ({}); printing ids", tokenizer_dir, e.what());
      tokenizer.reset();
    }
  }
  const DataConfig config = recorded_config(manifest, args.data);
  LoaderOptions options = LoaderOptions::from_config(config, 1, static_cast<std::uint64_t>(args.seed), args.split);
  options.data_dir = args.data;
  options.num_threads = 0;
  PretrainLoader loader(options);
  const SampleSource& source = loader.source();
  const TokenCorpus& corpus = source.corpus();

  std::printf("shards: %s (tokenizer %s, vocab %d, hash %s, %u-byte ids)\n", args.data.c_str(),
              manifest.tokenizer.type.c_str(), manifest.tokenizer.vocab_size, manifest.tokenizer.hash.c_str(),
              manifest.token_bytes);
  for (const char* name : {"train", "heldout"}) {
    const SplitInfo& s = manifest.split(name);
    std::printf("  %-8s %8lld documents %10lld sentences %12lld tokens  %zu shard(s)  %.1f tokens/sentence\n", name,
                static_cast<long long>(s.documents), static_cast<long long>(s.sentences),
                static_cast<long long>(s.tokens), s.shards.size(),
                s.sentences ? static_cast<double>(s.tokens) / s.sentences : 0.0);
  }
  std::printf("  input: %s\n", manifest.input_stats.dump().c_str());
  const std::string segmentation = describe_segmentation(manifest.segmentation);
  if (!segmentation.empty()) std::printf("  segmentation: %s\n", segmentation.c_str());
  const SequenceStats stats = measure_sequences(source, 0, args.stats_samples);
  std::printf("sequences (%s split, max_seq_length %d, nsp %s, %s masking%s):\n", args.split.c_str(),
              options.instances.max_seq_length, options.instances.nsp ? "on" : "off",
              options.masking.static_masking ? "static" : "dynamic",
              options.masking.whole_word_masking ? ", whole words" : "");
  std::printf("  %lld per epoch; measured on %lld: average length %.1f tokens, average fill %.1f%%, %.2f predictions, "
              "random B %.1f%%\n",
              static_cast<long long>(stats.samples_per_epoch), static_cast<long long>(stats.measured),
              stats.average_length, 100.0 * stats.average_fill, stats.average_masked,
              100.0 * stats.random_next_share);
  (void)corpus;
  Sample sample;
  for (int i = 0; i < args.n && i < stats.samples_per_epoch; ++i) {
    source.sample(0, i, sample);
    print_example(sample, tokenizer.get(), source.tokenizer().special, i);
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

  auto inspect_args = std::make_shared<InspectArgs>();
  auto* inspect = data->add_subcommand("inspect", "Print corpus statistics and decoded example pairs");
  inspect->add_option("--data", inspect_args->data, "Shard directory")->required();
  inspect->add_option("--n", inspect_args->n, "Examples to print")->capture_default_str();
  inspect->add_option("--split", inspect_args->split, "train or heldout")->capture_default_str();
  inspect->add_option("--seed", inspect_args->seed, "Seed of the order and masks")->capture_default_str();
  inspect->add_option("--tokenizer", inspect_args->tokenizer, "Tokenizer directory (default: the one it was built with)");
  inspect->callback([inspect_args] { run_inspect(*inspect_args); });

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
