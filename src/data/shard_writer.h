#pragma once
// Collects tokenized documents of one split and writes them as shard files
// of about shard_tokens tokens (a document never spans two shards).
#include <cstdint>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "data/shard_file.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

class ShardWriter {
 public:
  ShardWriter(std::string dir, std::string split, std::uint32_t token_bytes, std::int64_t shard_tokens);

  // Sentences with no tokens are dropped; false when nothing was left.
  bool add_document(const std::vector<tok::Encoding>& sentences);
  SplitInfo finish();

 private:
  void flush();

  std::string dir_;
  std::string split_;
  std::uint32_t token_bytes_;
  std::int64_t shard_tokens_;
  ShardContents current_;
  SplitInfo info_;
};

}  // namespace bf::data
