#include "data/shard_writer.h"

#include <cstdio>
#include <filesystem>

#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"

namespace bf::data {

ShardWriter::ShardWriter(std::string dir, std::string split, std::uint32_t token_bytes, std::int64_t shard_tokens)
    : dir_(std::move(dir)), split_(std::move(split)), token_bytes_(token_bytes), shard_tokens_(shard_tokens) {}

bool ShardWriter::add_document(const std::vector<tok::Encoding>& sentences) {
  std::size_t kept = 0;
  for (const auto& sentence : sentences) {
    if (sentence.ids.empty()) continue;
    if (current_.tokens.size() + sentence.ids.size() >= (std::uint64_t(1) << 32) - 1) {
      bf::fail("a single document has more than 4G tokens; split it");
    }
    current_.tokens.insert(current_.tokens.end(), sentence.ids.begin(), sentence.ids.end());
    if (sentence.word_starts.size() == sentence.ids.size()) {
      current_.word_starts.insert(current_.word_starts.end(), sentence.word_starts.begin(), sentence.word_starts.end());
    } else {
      // A tokenizer without word information: every piece is its own word.
      current_.word_starts.insert(current_.word_starts.end(), sentence.ids.size(), 1);
    }
    current_.sentence_offsets.push_back(static_cast<std::uint32_t>(current_.tokens.size()));
    ++kept;
  }
  if (kept == 0) return false;
  current_.document_offsets.push_back(static_cast<std::uint32_t>(current_.num_sentences()));
  if (static_cast<std::int64_t>(current_.tokens.size()) >= shard_tokens_) flush();
  return true;
}

void ShardWriter::flush() {
  if (current_.num_documents() == 0) return;
  char name[64];
  std::snprintf(name, sizeof(name), "%s-%05zu.bin", split_.c_str(), info_.shards.size());
  const std::string bytes = encode_shard(current_, token_bytes_);
  write_file_atomic((std::filesystem::path(dir_) / name).string(), bytes);
  ShardInfo shard;
  shard.file = name;
  shard.documents = static_cast<std::int64_t>(current_.num_documents());
  shard.sentences = static_cast<std::int64_t>(current_.num_sentences());
  shard.tokens = static_cast<std::int64_t>(current_.tokens.size());
  shard.bytes = static_cast<std::int64_t>(bytes.size());
  shard.xxh3 = hash64_hex(bytes);
  info_.documents += shard.documents;
  info_.sentences += shard.sentences;
  info_.tokens += shard.tokens;
  info_.shards.push_back(shard);
  current_ = ShardContents{};
}

SplitInfo ShardWriter::finish() {
  flush();
  return info_;
}

}  // namespace bf::data
