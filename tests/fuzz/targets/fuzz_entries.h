#pragma once
// The bodies of the libFuzzer targets, header-only so that the targets
// (tests/fuzz/targets/fuzz_*.cpp, built with -DBERTFORGE_FUZZ=ON) and the
// regression test of the default suite (tests/fuzz/test_fuzz_regressions.cpp)
// run exactly the same code on an input.
//
// The rule every entry checks: whatever the bytes, the parser either succeeds
// or throws a bf::Error (a clear message naming the file, line or key). Any
// other exception escapes the entry, so libFuzzer reports it as a crash and
// the regression test fails; so do ASan/UBSan findings, allocations beyond
// libFuzzer's -malloc_limit_mb and the invariants checked below (abort()).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/data_config.h"
#include "data/shard_file.h"
#include "finetune/finetune_config.h"
#include "pretrain/pretrain_config.h"
#include "finetune/row_reader.h"
#include "io/safetensors.h"
#include "tokenizer/spm_trainer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wordpiece_tokenizer.h"
#include "tokenizer/wordpiece_vocab.h"
#include "util/config_reader.h"
#include "util/error.h"

namespace bf::fuzz {

// A broken invariant is a bug even when nothing crashed: abort so libFuzzer keeps the input.
inline void invariant(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "bertforge fuzz: invariant broken: %s\n", what);
  std::abort();
}

// Runs one parse; a bf::Error is the expected way to refuse bad input.
template <class F>
void expect_ok_or_bf_error(F&& body) {
  try {
    body();
  } catch (const bf::Error&) {
  }
}

// A scratch folder of this process for the readers that take a path,
// removed when the process ends normally.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    const auto d = std::filesystem::temp_directory_path() / ("bertforge-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    path = d.string();
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
inline const std::string& scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  invariant(f != nullptr, "cannot create the scratch input file");
  if (size > 0) invariant(std::fwrite(data, 1, size, f) == size, "cannot write the scratch input file");
  std::fclose(f);
  return path;
}

inline std::string shared_dir() {
  const char* env = std::getenv("BERTFORGE_SHARED");
  return env != nullptr ? std::string(env) : std::string(BERTFORGE_SOURCE_DIR) + "/../shared";
}

// --- safetensors: SafetensorsReader on the file, then every tensor loaded ----
inline int fuzz_safetensors(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_input("input.safetensors", data, size);
  expect_ok_or_bf_error([&] {
    bf::io::SafetensorsReader reader(path);
    std::uint64_t loaded = 0;
    for (const auto& e : reader.entries()) {
      const auto tensor = reader.load(e.name);
      invariant(tensor.sizes().vec() == e.shape, "a loaded tensor's shape differs from its header entry");
      loaded += static_cast<std::uint64_t>(tensor.nbytes());
    }
    // The header may not make the reader allocate more than the file holds.
    invariant(loaded <= size, "tensor bytes loaded exceed the file's size");
  });
  return 0;
}

// --- configs: the YAML as each of the four top-level configs -----------------
// Lines "#set key.path=value" (YAML comments) also become --set overrides.
inline int fuzz_config(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.compare(start, 5, "#set ") == 0 && end > start + 5) overrides.push_back(text.substr(start + 5, end - start - 5));
    start = end + 1;
  }
  const std::string path = write_input("config.yaml", data, size);
  expect_ok_or_bf_error([&] {
    auto config = bf::pretrain::load_pretrain_config(path, overrides);
    (void)bf::pretrain::check_pretrain_paths(config);
    (void)bf::config_to_yaml(config);
  });
  expect_ok_or_bf_error([&] {
    auto config = bf::ft::load_finetune_config(path, overrides);
    (void)bf::ft::check_finetune_paths(config);
    (void)bf::config_to_yaml(config);
  });
  expect_ok_or_bf_error([&] { (void)bf::data::read_data_build_config(path, overrides); });
  expect_ok_or_bf_error([&] {
    auto config = bf::read_config<bf::tok::SpmTrainConfig>(path, overrides);
    (void)bf::config_to_yaml(config);
  });
  return 0;
}

// --- labelled rows: RowReader over TSV, CSV, JSONL or text ------------------
// Byte 0 picks the format ('c' CSV, 'j' JSONL, 'x' text, anything else TSV);
// byte 1: bit 0 asks for a text_pair column "text_b", bit 1 makes the label
// required. The rest is the file.
inline int fuzz_rows(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  using bf::ft::FileFormat;
  FileFormat format = FileFormat::Tsv;
  std::string name = "rows.tsv";
  switch (data[0]) {
    case 'c': format = FileFormat::Csv, name = "rows.csv"; break;
    case 'j': format = FileFormat::Jsonl, name = "rows.jsonl"; break;
    case 'x': format = FileFormat::Text, name = "rows.txt"; break;
    default: break;
  }
  bf::ft::Columns columns;
  if (data[1] & 1) columns.text_pair = "text_b";
  columns.label_required = (data[1] & 2) != 0;
  const std::string path = write_input(name, data + 2, size - 2);
  expect_ok_or_bf_error([&] {
    bf::ft::RowReader reader(path, format, columns);
    bf::ft::Row row;
    // Each call consumes at least one line, so the file's size bounds the loop.
    for (std::size_t i = 0; i <= size; ++i) {
      try {
        if (!reader.next(row)) break;
        invariant(bf::ft::is_valid_utf8(row.text), "a row's text is not valid UTF-8");
      } catch (const bf::ft::BadRow&) {
        // the bad-row policy's business; the reader goes on with the next row
      }
    }
  });
  return 0;
}

// --- tokenizers -------------------------------------------------------------
inline void check_encoding(const bf::tok::Tokenizer& tokenizer, std::string_view text) {
  const auto encoding = tokenizer.encode(text);
  invariant(encoding.ids.size() == encoding.word_starts.size(), "ids and word_starts differ in length");
  for (const auto id : encoding.ids) invariant(id >= 0 && id < tokenizer.vocab_size(), "an id outside the vocabulary");
  invariant(tokenizer.encode_pieces(text).size() == encoding.ids.size(), "encode_pieces and encode disagree");
  (void)tokenizer.decode(encoding.ids);
  const std::size_t half = text.size() / 2;
  const auto pair = tokenizer.encode_pair(text.substr(0, half), text.substr(half), 32, true);
  invariant(pair.input_ids.size() == 32 && pair.token_type_ids.size() == 32 && pair.attention_mask.size() == 32,
            "encode_pair with padding is not max_len long");
}

// WordPiece over BERT's uncased vocabulary. Byte 0 picks the options (bit 0
// lower case, bit 1 sets strip_accents to bit 2, bit 3 turns off the CJK
// split, bit 4 keeps specials whole, bit 5 a 5-character word limit); the rest
// is the text. The text is also parsed as a vocab.txt of its own.
inline const bf::tok::WordPieceVocab& fuzz_wordpiece_vocab() {
  static const bf::tok::WordPieceVocab vocab =
      bf::tok::WordPieceVocab::from_file(shared_dir() + "/data/bert_vocab/bert-base-uncased-vocab.txt");
  return vocab;
}

inline int fuzz_wordpiece(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned flags = data[0] & 63u;
  static std::unique_ptr<bf::tok::WordPieceTokenizer> cache[64];
  if (!cache[flags]) {
    bf::tok::WordPieceOptions options;
    options.do_lower_case = flags & 1u;
    if (flags & 2u) options.strip_accents = (flags & 4u) != 0;
    options.tokenize_chinese_chars = !(flags & 8u);
    options.never_split_special = (flags & 16u) != 0;
    options.max_input_chars_per_word = (flags & 32u) ? 5 : 100;
    cache[flags] = std::make_unique<bf::tok::WordPieceTokenizer>(fuzz_wordpiece_vocab(), options);
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  expect_ok_or_bf_error([&] { check_encoding(*cache[flags], text); });
  expect_ok_or_bf_error([&] {
    const auto vocab = bf::tok::WordPieceVocab::from_text(std::string(text), "fuzz-vocab.txt");
    bf::tok::WordPieceTokenizer own(vocab, {});
    check_encoding(own, text);
  });
  return 0;
}

// SentencePiece (through the bridge) with a small unigram model trained once
// per process from ../shared's English corpus. The text is encoded; the same
// bytes read as int32 ids are decoded (ids out of range must be refused).
inline const bf::tok::Tokenizer& fuzz_spm_tokenizer() {
  static const std::unique_ptr<bf::tok::Tokenizer> tokenizer = [] {
    const std::string dir = scratch_dir() + "/spm";
    std::filesystem::create_directories(dir);
    std::ifstream in(shared_dir() + "/data/en_pretrain/en_pretrain.txt");
    invariant(in.good(), "cannot read ../shared/data/en_pretrain/en_pretrain.txt (set BERTFORGE_SHARED)");
    std::ofstream sample(dir + "/sample.txt");
    std::string line;
    for (int n = 0; n < 3000 && std::getline(in, line);)
      if (!line.empty()) sample << line << '\n', ++n;
    sample.close();
    bf::tok::SpmTrainConfig config;
    config.input = {dir + "/sample.txt"};
    config.output_dir = dir + "/tok";
    config.vocab_size = 400;
    config.byte_fallback = true;
    config.input_sentence_size = 0;
    config.num_threads = 1;
    return bf::tok::train_sentencepiece(config);
  }();
  return *tokenizer;
}

inline int fuzz_sentencepiece(const std::uint8_t* data, std::size_t size) {
  const bf::tok::Tokenizer& tokenizer = fuzz_spm_tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  expect_ok_or_bf_error([&] { check_encoding(tokenizer, text); });
  std::vector<std::int32_t> ids(size / 4);
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * 4);
  expect_ok_or_bf_error([&] { (void)tokenizer.decode(ids); });
  return 0;
}

// --- shards: ShardView on the bytes, then every token walked as TokenCorpus does
inline int fuzz_shard(const std::uint8_t* data, std::size_t size) {
  // A memory map is page-aligned; give the view the same 8-byte alignment.
  std::vector<std::uint64_t> aligned((size + 7) / 8);
  if (size > 0) std::memcpy(aligned.data(), data, size);
  expect_ok_or_bf_error([&] {
    const bf::data::ShardView view(reinterpret_cast<const std::uint8_t*>(aligned.data()), size, "fuzz.shard");
    std::uint64_t tokens = 0;
    for (std::uint64_t d = 0; d < view.num_documents(); ++d) {
      for (std::uint64_t s = view.document_offset(d); s < view.document_offset(d + 1); ++s) {
        for (std::uint64_t t = view.sentence_offset(s); t < view.sentence_offset(s + 1); ++t) {
          (void)view.token(t);
          (void)view.word_start(t);
          ++tokens;
        }
      }
    }
    invariant(tokens <= view.num_tokens(), "documents cover more tokens than the shard holds");
  });
  return 0;
}

}  // namespace bf::fuzz
