// bertforge tokenizer train | inspect | encode | bench
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bench/tokenizer_bench.h"
#include "cli/commands.h"
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

std::string join_ids(const std::vector<std::int32_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(ids[i]);
  }
  return out;
}

std::string join_pieces(const tok::Tokenizer& tokenizer, const std::vector<std::int32_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += tokenizer.id_to_token(ids[i]);
  }
  return out;
}

void strip_line_end(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

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
  cmd->callback([args] {
    const auto tokenizer = tok::load_tokenizer(args->dir);
    const tok::SpecialIds ids = tokenizer->special_ids();
    auto special = [&](const char* name, std::int32_t id) {
      std::printf("  %-5s %d%s\n", name, id, id >= 0 ? (" " + tokenizer->id_to_token(id)).c_str() : " (absent)");
    };
    std::printf("type:         %s\n", tokenizer->type().c_str());
    std::printf("vocab_size:   %d\n", tokenizer->vocab_size());
    std::printf("content_hash: %s\n", tokenizer->content_hash().c_str());
    std::printf("special ids:\n");
    special("pad", ids.pad);
    special("unk", ids.unk);
    special("cls", ids.cls);
    special("sep", ids.sep);
    special("mask", ids.mask);
    const tok::Encoding encoding = tokenizer->encode(args->text);
    std::printf("sample:       %s\n", args->text.c_str());
    std::printf("  pieces:     %s\n", join_pieces(*tokenizer, encoding.ids).c_str());
    std::printf("  ids:        %s\n", join_ids(encoding.ids).c_str());
    std::string starts;
    for (auto s : encoding.word_starts) starts += std::string(starts.empty() ? "" : " ") + (s ? "1" : "0");
    std::printf("  word starts:%s%s\n", starts.empty() ? "" : " ", starts.c_str());
    std::printf("  decoded:    %s\n", tokenizer->decode(encoding.ids).c_str());
  });
}

// ---------------------------------------------------------------------------
struct EncodeArgs {
  TokenizerChoice choice;
  bool pieces = false;
  bool special = false;
  bool pair = false;
  bool pad = false;
  int max_length = 0;
  int threads = 0;
};

void encode_pairs(const tok::Tokenizer& tokenizer, const EncodeArgs& args) {
  const int max_length = args.max_length > 0 ? args.max_length : 512;
  for (std::string line; std::getline(std::cin, line);) {
    strip_line_end(line);
    const std::size_t tab = line.find('\t');
    const std::string_view a = std::string_view(line).substr(0, tab);
    std::optional<std::string_view> b;
    if (tab != std::string::npos) b = std::string_view(line).substr(tab + 1);
    const tok::PairEncoding e = tokenizer.encode_pair(a, b, max_length, args.pad);
    const std::string ids = args.pieces ? join_pieces(tokenizer, e.input_ids) : join_ids(e.input_ids);
    std::printf("%s\t%s\t%s\n", ids.c_str(), join_ids(e.token_type_ids).c_str(), join_ids(e.attention_mask).c_str());
  }
}

void print_encoding(const tok::Tokenizer& tokenizer, const std::string& text, std::vector<std::int32_t> ids,
                    const EncodeArgs& args) {
  if (args.special) {
    const int max_length = args.max_length > 0 ? args.max_length : std::numeric_limits<int>::max();
    ids = tokenizer.encode_pair(text, std::nullopt, max_length).input_ids;
  } else if (args.max_length > 0 && ids.size() > static_cast<std::size_t>(args.max_length)) {
    ids.resize(static_cast<std::size_t>(args.max_length));
  }
  const std::string out = args.pieces ? join_pieces(tokenizer, ids) : join_ids(ids);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
}

void encode_lines(const tok::Tokenizer& tokenizer, const EncodeArgs& args) {
  // Lines are encoded in batches on all cores; output order is input order.
  constexpr std::size_t kBatch = 8192;
  std::vector<std::string> batch;
  auto flush = [&] {
    const auto encodings = tokenizer.encode_batch(batch, args.threads);
    for (std::size_t i = 0; i < batch.size(); ++i) print_encoding(tokenizer, batch[i], encodings[i].ids, args);
    batch.clear();
  };
  for (std::string line; std::getline(std::cin, line);) {
    strip_line_end(line);
    batch.push_back(std::move(line));
    if (batch.size() == kBatch) flush();
  }
  flush();
}

void add_encode(CLI::App* parent) {
  auto args = std::make_shared<EncodeArgs>();
  auto* cmd = parent->add_subcommand("encode", "Encode UTF-8 lines from stdin, one output line per input line");
  args->choice.add_to(cmd);
  cmd->add_flag("--pieces", args->pieces, "Print pieces instead of ids");
  cmd->add_flag("--special", args->special, "Add [CLS] and [SEP]");
  cmd->add_flag("--pair", args->pair,
                "Read tab-separated pairs; print input_ids, token_type_ids and attention_mask as three "
                "tab-separated fields");
  cmd->add_option("--max-length", args->max_length,
                  "Truncate to N tokens (specials included; longest-first for pairs; default 512 with --pair)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--pad", args->pad, "With --pair: pad with [PAD] to --max-length");
  cmd->add_option("--threads", args->threads, "Encoding threads (0: all cores)")->check(CLI::NonNegativeNumber);
  cmd->callback([args] {
    const auto tokenizer = args->choice.load();
    if (args->pair) {
      encode_pairs(*tokenizer, *args);
    } else {
      encode_lines(*tokenizer, *args);
    }
    std::fflush(stdout);
  });
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
