#pragma once
// The shared data the tokenizer tests read: conformance vectors, BERT
// vocabularies and corpora. A missing file fails the test (never skips it).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "../support/shared_data.h"

namespace bf::tok::test {

inline std::string conformance_file(const std::string& name) {
  return bf::test::shared_path("data/tokenizer_conformance/" + name);
}
inline std::string uncased_vocab() { return bf::test::shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"); }
inline std::string chinese_vocab() { return bf::test::shared_path("data/bert_vocab/bert-base-chinese-vocab.txt"); }
inline std::string english_corpus() { return bf::test::shared_path("data/en_pretrain/en_pretrain.txt"); }
inline std::string chinese_corpus() { return bf::test::shared_path("data/zh_four_classics/four_classics_clean.txt"); }

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  REQUIRE(!rows.empty());
  return rows;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

inline std::vector<std::string> read_lines(const std::string& path, std::size_t max_lines) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<std::string> lines;
  for (std::string line; lines.size() < max_lines && std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace bf::tok::test
