#pragma once
// Shared pieces of the data tests: the real corpora from ../shared (missing
// data is a failure, never a skip), a small WordPiece tokenizer so the tests
// exercise the pipeline on real text independent of the tokenizer module, and
// shard directories built once per test run.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "data/corpus_builder.h"
#include "data/data_config.h"
#include "tokenizer/tokenizer.h"
#include "util/hash.h"

namespace bf::data::test {

// Build logs would drown the test report.
inline const bool kQuietLogs = (spdlog::set_level(spdlog::level::warn), true);

inline std::string shared_path(const std::string& relative) {
  namespace fs = std::filesystem;
  const char* env = std::getenv("BERTFORGE_SHARED");
  const fs::path root = env ? fs::path(env) : fs::path(BERTFORGE_SOURCE_DIR) / ".." / "shared";
  const fs::path path = root / relative;
  INFO("the data tests need the shared data folder at " << root.string() << " (or BERTFORGE_SHARED)");
  REQUIRE(fs::exists(path));
  return path.string();
}

inline std::string temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bertforge-data-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Uncased WordPiece over a BERT vocab.txt: whitespace and punctuation split,
// each CJK character a word, greedy longest-match pieces with "##".
class TestWordPiece : public tok::Tokenizer {
 public:
  explicit TestWordPiece(const std::string& vocab_file, std::string salt = "") {
    std::ifstream in(vocab_file);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      ids_.emplace(line, static_cast<std::int32_t>(tokens_.size()));
      tokens_.push_back(line);
    }
    hash_ = hash64_hex(std::to_string(tokens_.size()) + tokens_.back() + salt);
    special_ = {token_to_id("[PAD]"), token_to_id("[UNK]"), token_to_id("[CLS]"), token_to_id("[SEP]"),
                token_to_id("[MASK]")};
  }
  std::string type() const override { return "wordpiece"; }
  tok::Encoding encode(std::string_view text) const override {
    tok::Encoding out;
    for (const auto& word : words(text)) {
      const std::size_t before = out.ids.size();
      if (!pieces(word, out.ids)) {
        out.ids.resize(before);
        out.ids.push_back(special_.unk);
      }
      for (std::size_t i = before; i < out.ids.size(); ++i) out.word_starts.push_back(i == before ? 1 : 0);
    }
    return out;
  }
  std::vector<std::string> encode_pieces(std::string_view text) const override {
    std::vector<std::string> out;
    for (auto id : encode(text).ids) out.push_back(id_to_token(id));
    return out;
  }
  std::string decode(const std::vector<std::int32_t>& ids) const override {
    std::string s;
    for (auto id : ids) s += (s.empty() ? "" : " ") + id_to_token(id);
    return s;
  }
  std::int32_t token_to_id(std::string_view token) const override {
    auto it = ids_.find(std::string(token));
    return it == ids_.end() ? -1 : it->second;
  }
  std::string id_to_token(std::int32_t id) const override { return tokens_.at(static_cast<std::size_t>(id)); }
  std::int32_t vocab_size() const override { return static_cast<std::int32_t>(tokens_.size()); }
  tok::SpecialIds special_ids() const override { return special_; }
  std::string content_hash() const override { return hash_; }
  void save(const std::string&) const override {}

 private:
  static bool is_cjk(std::uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x2FA1F);
  }
  static std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::string word;
    auto flush = [&] {
      if (!word.empty()) out.push_back(word);
      word.clear();
    };
    std::size_t i = 0;
    while (i < text.size()) {
      const auto b = static_cast<unsigned char>(text[i]);
      std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
      n = std::min(n, text.size() - i);
      std::uint32_t code = b;
      if (n == 2) code = ((b & 0x1F) << 6) | (text[i + 1] & 0x3F);
      if (n == 3) code = ((b & 0x0F) << 12) | ((text[i + 1] & 0x3F) << 6) | (text[i + 2] & 0x3F);
      if (n == 4) code = ((b & 0x07) << 18) | ((text[i + 1] & 0x3F) << 12) | ((text[i + 2] & 0x3F) << 6) | (text[i + 3] & 0x3F);
      const std::string ch(text.substr(i, n));
      i += n;
      if (b < 0x80 && std::isspace(b)) {
        flush();
      } else if (b < 0x80 && std::ispunct(b)) {
        flush();
        out.push_back(ch);
      } else if (is_cjk(code) || (code >= 0x3000 && code <= 0x303F) || (code >= 0xFF00 && code <= 0xFFEF)) {
        flush();
        out.push_back(ch);
      } else if (b < 0x80) {
        word.push_back(static_cast<char>(std::tolower(b)));
      } else {
        word += ch;
      }
    }
    flush();
    return out;
  }
  bool pieces(const std::string& word, std::vector<std::int32_t>& ids) const {
    if (word.size() > 100) return false;
    std::size_t start = 0;
    while (start < word.size()) {
      std::size_t end = word.size();
      std::int32_t found = -1;
      while (end > start) {
        std::string sub = word.substr(start, end - start);
        if (start > 0) sub = "##" + sub;
        auto it = ids_.find(sub);
        if (it != ids_.end()) {
          found = it->second;
          break;
        }
        --end;
      }
      if (found < 0) return false;
      ids.push_back(found);
      start = end;
    }
    return true;
  }
  std::unordered_map<std::string, std::int32_t> ids_;
  std::vector<std::string> tokens_;
  std::string hash_;
  tok::SpecialIds special_;
};

inline const TestWordPiece& english_tokenizer() {
  static const TestWordPiece tokenizer(shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"));
  return tokenizer;
}
inline const TestWordPiece& chinese_tokenizer() {
  static const TestWordPiece tokenizer(shared_path("data/bert_vocab/bert-base-chinese-vocab.txt"));
  return tokenizer;
}

// Every `step`-th document of a blank-line separated file until ~max_bytes:
// a slice that still has all four kinds of English text in it.
inline std::string document_slice(const std::string& file, std::size_t step, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::string out;
  std::size_t index = 0, begin = 0;
  while (begin < text.size() && out.size() < max_bytes) {
    std::size_t end = text.find("\n\n", begin);
    if (end == std::string::npos) end = text.size();
    if (index++ % step == 0) out += text.substr(begin, end - begin) + "\n\n";
    begin = end + 2;
  }
  return out;
}

inline DataConfig small_config(const std::string& input, const std::string& output, const std::string& format) {
  DataConfig c;
  c.inputs = {{input, format, ""}};
  c.output = output;
  c.heldout_fraction = 0.05;
  c.shard_tokens = 100000;  // several shards even for a slice
  return c;
}

// ~1.2 MB of en_pretrain (every 9th document), built once per test run.
inline const std::string& english_shards() {
  static const std::string dir = [] {
    const std::string root = temp_dir("en");
    const std::string input = root + "/en_slice.txt";
    write_text(input, document_slice(shared_path("data/en_pretrain/en_pretrain.txt"), 9, 1200000));
    BuildOptions options;
    options.show_progress = false;
    build_corpus(small_config(input, root + "/shards", "google"), english_tokenizer(), options);
    return root + "/shards";
  }();
  return dir;
}

// The first ~300 KB of the four classics, paragraph format (one paragraph per line).
inline const std::string& chinese_shards() {
  static const std::string dir = [] {
    const std::string root = temp_dir("zh");
    const std::string input = root + "/zh_slice.txt";
    write_text(input, document_slice(shared_path("data/zh_four_classics/four_classics_clean.txt"), 1, 300000));
    BuildOptions options;
    options.show_progress = false;
    build_corpus(small_config(input, root + "/shards", "paragraph"), chinese_tokenizer(), options);
    return root + "/shards";
  }();
  return dir;
}

}  // namespace bf::data::test
