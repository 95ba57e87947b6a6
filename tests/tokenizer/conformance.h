#pragma once
// Access to the shared conformance vectors. Tests run from the repository
// root; a missing file fails the test (it is never skipped).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace bf::tok::test {

inline const std::string kSharedData = "../shared/data";
inline const std::string kConformanceDir = kSharedData + "/tokenizer_conformance";
inline const std::string kUncasedVocab = kSharedData + "/bert_vocab/bert-base-uncased-vocab.txt";
inline const std::string kChineseVocab = kSharedData + "/bert_vocab/bert-base-chinese-vocab.txt";

inline std::string require_shared_file(const std::string& path) {
  INFO("shared test data missing: " << path << " (tests run from the repository root, next to ../shared)");
  REQUIRE(std::ifstream(path).good());
  return path;
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(require_shared_file(path));
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  REQUIRE(!rows.empty());
  return rows;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(require_shared_file(path));
  return nlohmann::json::parse(in);
}

inline std::vector<std::string> read_lines(const std::string& path, std::size_t max_lines) {
  std::ifstream in(require_shared_file(path));
  std::vector<std::string> lines;
  for (std::string line; lines.size() < max_lines && std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace bf::tok::test
