// bertforge tokenizer train | inspect | encode | bench
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/tokenizer_bench.h"
#include "cli/commands.h"
#include "tokenizer/console.h"
#include "tokenizer/spm_trainer.h"
#include "tokenizer/tokenizer.h"
#include "util/config_reader.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/runtime.h"

namespace bf::cli {
namespace {

// --tokenizer DIR | --vocab vocab.txt [--cased], shared by encode and bench.
struct TokenizerChoice {
  std::string dir;
  std::string vocab;
  bool cased = false;

  void add_to(CLI::App* cmd) {
    auto* dir_opt = cmd->add_option("--tokenizer", dir, "Tokenizer directory (or a model directory carrying one)");
    auto* vocab_opt = cmd->add_option("--vocab", vocab, "A bare BERT vocab.txt: WordPiece, lower-cased unless --cased");
    dir_opt->excludes(vocab_opt);
    cmd->add_flag("--cased", cased, "With --vocab: keep case and accents");
  }
  std::unique_ptr<tok::Tokenizer> load() const {
    if (!dir.empty()) return tok::load_tokenizer(dir);
    if (!vocab.empty()) return tok::load_wordpiece_vocab(vocab, !cased);
    fail("give a tokenizer with --tokenizer DIR or --vocab vocab.txt");
  }
};

// ---------------------------------------------------------------------------
void add_train(CLI::App* parent) {
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = parent->add_subcommand("train", "Train a SentencePiece tokenizer from a YAML config");
  cmd->add_option("--config", args->config, "Tokenizer training config (configs/tokenizer.yaml)")->required();
  cmd->add_option("--set", args->overrides, "Override a config key: key=value (repeatable)");
  cmd->callback([args] {
    auto config = read_config<tok::SpmTrainConfig>(args->config, args->overrides);
    const auto tokenizer = tok::train_sentencepiece(config);
    std::printf("%s: %s, vocab_size %d, content hash %s\n", config.output_dir.c_str(), tokenizer->type().c_str(),
                tokenizer->vocab_size(), tokenizer->content_hash().c_str());
  });
}

// ---------------------------------------------------------------------------
void add_inspect(CLI::App* parent) {
  struct Args {
    std::string dir;
    std::string text = "Hello world! The quick brown fox jumps over the lazy dog. 我爱北京天安门。";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = parent->add_subcommand("inspect", "Print a tokenizer's type, vocab size, special ids and a sample");
  cmd->add_option("dir", args->dir, "Tokenizer directory")->required();
  cmd->add_option("--text", args->text, "Sample text to encode");
  cmd->callback([args] { tok::print_summary(*tok::load_tokenizer(args->dir), args->text, stdout); });
}

// ---------------------------------------------------------------------------
struct EncodeArgs {
  TokenizerChoice choice;
  tok::EncodeOptions options;
};

void add_encode(CLI::App* parent) {
  auto args = std::make_shared<EncodeArgs>();
  auto* cmd = parent->add_subcommand("encode", "Encode UTF-8 lines from stdin, one output line per input line");
  args->choice.add_to(cmd);
  cmd->add_flag("--pieces", args->options.pieces, "Print pieces instead of ids");
  cmd->add_flag("--special", args->options.special, "Add [CLS] and [SEP]");
  cmd->add_flag("--pair", args->options.pair,
                "Read tab-separated pairs; print input_ids, token_type_ids and attention_mask as three "
                "tab-separated fields");
  cmd->add_option("--max-length", args->options.max_length,
                  "Truncate to N tokens (specials included; longest-first for pairs; default 512 with --pair)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--pad", args->options.pad, "With --pair: pad with [PAD] to --max-length");
  cmd->add_option("--threads", args->options.threads, "Encoding threads (0: all cores)")->check(CLI::NonNegativeNumber);
  cmd->callback([args] { tok::encode_lines(*args->choice.load(), args->options, std::cin, stdout); });
}

void add_bench(CLI::App* parent) {
  struct Args {
    TokenizerChoice choice;
    std::string input;
    int threads = 0;
    int repeat = 1;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = parent->add_subcommand("bench", "Measure encoding speed (MB/s) on 1 thread and on all cores");
  args->choice.add_to(cmd);
  cmd->add_option("--input", args->input, "UTF-8 text file, one sentence per line")->required();
  cmd->add_option("--threads", args->threads, "Threads for the parallel run (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--repeat", args->repeat, "Runs of each; the fastest counts")->check(CLI::PositiveNumber);
  cmd->callback([args] { bench::run_tokenizer_bench(*args->choice.load(), args->input, args->threads, args->repeat); });
}

}  // namespace

void add_tokenizer_commands(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenizer", "Train, inspect, run and benchmark tokenizers");
  cmd->require_subcommand(1);
  add_train(cmd);
  add_inspect(cmd);
  add_encode(cmd);
  add_bench(cmd);
}

}  // namespace bf::cli
