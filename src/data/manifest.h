#pragma once
// manifest.json of a shard directory: which tokenizer made the ids, what the
// shards hold, their checksums, and the build config. It is written last, so
// a directory with a manifest is a complete build.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace bf::data {

inline constexpr const char* kManifestFile = "manifest.json";

// What the data pipeline needs to know about a tokenizer, and checks.
struct TokenizerInfo {
  std::string hash;
  std::string type;
  std::int32_t vocab_size = 0;
  tok::SpecialIds special;
  std::string dir;  // where it was loaded from at build time, for `data inspect`

  static TokenizerInfo of(const tok::Tokenizer& tokenizer, const std::string& dir = "");
};

struct ShardInfo {
  std::string file;  // relative to the shard directory
  std::int64_t documents = 0;
  std::int64_t sentences = 0;
  std::int64_t tokens = 0;
  std::int64_t bytes = 0;
  std::string xxh3;
};

struct SplitInfo {
  std::int64_t documents = 0;
  std::int64_t sentences = 0;
  std::int64_t tokens = 0;
  std::vector<ShardInfo> shards;
};

struct Manifest {
  std::int64_t version = 1;
  std::string build_key;  // hash of inputs' contents, shard-deciding config and tokenizer
  TokenizerInfo tokenizer;
  std::uint32_t token_bytes = 2;
  SplitInfo train;
  SplitInfo heldout;
  nlohmann::json input_stats;
  nlohmann::json inputs;     // [{path, bytes, xxh3}]
  std::string config_yaml;   // the data config of the build
  nlohmann::json segmentation;  // word segmentation's mode and counters; null without one
  double build_seconds = 0;

  const SplitInfo& split(const std::string& name) const;
  nlohmann::json to_json() const;
  static Manifest from_json(const nlohmann::json& j, const std::string& where);
  void save(const std::string& dir) const;
  static Manifest load(const std::string& dir);

  // Fails, naming both, when the shards were built with another tokenizer.
  void check_tokenizer(const TokenizerInfo& current, const std::string& dir) const;
};

}  // namespace bf::data
