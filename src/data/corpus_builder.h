#pragma once
// `bertforge data build`: inputs → cleaned documents → token ids on all cores
// → shard files + manifest. The result goes to a temporary directory that is
// renamed into place at the end, so an interrupted build leaves no half
// directory. An unchanged build (same input contents, shard-deciding config
// and tokenizer) is skipped.
#include <cstdint>
#include <string>

#include "data/data_config.h"
#include "data/manifest.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

struct BuildOptions {
  bool force = false;          // rebuild even when up to date
  bool show_progress = true;
  std::string tokenizer_dir;   // recorded in the manifest for `data inspect`
};

struct BuildResult {
  bool skipped = false;
  Manifest manifest;
  double seconds = 0;
  std::int64_t raw_bytes = 0;  // uncompressed input bytes read
  double mb_per_second() const { return seconds > 0 ? raw_bytes / 1e6 / seconds : 0.0; }
};

BuildResult build_corpus(const DataConfig& config, const tok::Tokenizer& tokenizer, const BuildOptions& options = {});

// The identity of a build, from the inputs' contents: equal keys mean equal shards.
std::string compute_build_key(const DataConfig& config, const TokenizerInfo& tokenizer, nlohmann::json* inputs_out = nullptr);

// True when `dir` holds a complete build with this key whose shards are all present.
bool build_is_current(const std::string& dir, const std::string& build_key);

}  // namespace bf::data
