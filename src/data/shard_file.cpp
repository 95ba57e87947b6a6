#include "data/shard_file.h"

#include <cstring>

#include "util/error.h"

namespace bf::data {
namespace {

std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t(7); }

struct Layout {
  std::size_t tokens, word_starts, sentence_offsets, document_offsets, total;
};

Layout layout_of(const ShardHeader& h) {
  Layout l{};
  l.tokens = sizeof(ShardHeader);
  l.word_starts = l.tokens + align8(h.num_tokens * h.token_bytes);
  l.sentence_offsets = l.word_starts + align8((h.num_tokens + 7) / 8);
  l.document_offsets = l.sentence_offsets + align8((h.num_sentences + 1) * 4);
  l.total = l.document_offsets + align8((h.num_documents + 1) * 4);
  return l;
}

}  // namespace

std::string encode_shard(const ShardContents& c, std::uint32_t token_bytes) {
  ShardHeader h{};
  std::memcpy(h.magic, kShardMagic, sizeof(h.magic));
  h.version = kShardVersion;
  h.token_bytes = token_bytes;
  h.num_tokens = c.tokens.size();
  h.num_sentences = c.num_sentences();
  h.num_documents = c.num_documents();
  const Layout l = layout_of(h);
  std::string bytes(l.total, '\0');
  std::memcpy(bytes.data(), &h, sizeof(h));
  char* out = bytes.data();
  if (token_bytes == 2) {
    auto* tokens = reinterpret_cast<std::uint16_t*>(out + l.tokens);
    for (std::size_t i = 0; i < c.tokens.size(); ++i) tokens[i] = static_cast<std::uint16_t>(c.tokens[i]);
  } else {
    std::memcpy(out + l.tokens, c.tokens.data(), c.tokens.size() * 4);
  }
  auto* bits = reinterpret_cast<std::uint8_t*>(out + l.word_starts);
  for (std::size_t i = 0; i < c.word_starts.size(); ++i) {
    if (c.word_starts[i]) bits[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
  }
  std::memcpy(out + l.sentence_offsets, c.sentence_offsets.data(), c.sentence_offsets.size() * 4);
  std::memcpy(out + l.document_offsets, c.document_offsets.data(), c.document_offsets.size() * 4);
  return bytes;
}

ShardView::ShardView(const std::uint8_t* data, std::size_t size, const std::string& name) {
  if (size < sizeof(ShardHeader)) bf::fail(name + ": truncated shard (" + std::to_string(size) + " bytes)");
  std::memcpy(&header_, data, sizeof(header_));
  if (std::memcmp(header_.magic, kShardMagic, sizeof(kShardMagic)) != 0) bf::fail(name + ": not a bertforge shard file");
  if (header_.version != kShardVersion) {
    bf::fail(name + ": shard format version " + std::to_string(header_.version) + ", this build reads " +
             std::to_string(kShardVersion) + "; rebuild with `bertforge data build`");
  }
  if (header_.token_bytes != 2 && header_.token_bytes != 4) bf::fail(name + ": corrupt header (token width)");
  if (header_.num_tokens >= (1ull << 32) || header_.num_sentences >= (1ull << 32) || header_.num_documents >= (1ull << 32)) {
    bf::fail(name + ": corrupt header (counts)");
  }
  const Layout l = layout_of(header_);
  if (l.total != size) {
    bf::fail(name + ": size is " + std::to_string(size) + " bytes, the header says " + std::to_string(l.total) +
             " (truncated or corrupt shard)");
  }
  tokens_ = data + l.tokens;
  word_starts_ = data + l.word_starts;
  sentence_offsets_ = reinterpret_cast<const std::uint32_t*>(data + l.sentence_offsets);
  document_offsets_ = reinterpret_cast<const std::uint32_t*>(data + l.document_offsets);
  // The offsets index into the other sections: check their ends once here so
  // that readers can trust them without a check per access.
  if (sentence_offsets_[0] != 0 || sentence_offsets_[header_.num_sentences] != header_.num_tokens ||
      document_offsets_[0] != 0 || document_offsets_[header_.num_documents] != header_.num_sentences) {
    bf::fail(name + ": corrupt offsets");
  }
  for (std::uint64_t s = 0; s < header_.num_sentences; ++s) {
    if (sentence_offsets_[s] > sentence_offsets_[s + 1]) bf::fail(name + ": corrupt sentence offsets");
  }
  for (std::uint64_t d = 0; d < header_.num_documents; ++d) {
    if (document_offsets_[d] >= document_offsets_[d + 1]) bf::fail(name + ": corrupt document offsets");
  }
}

}  // namespace bf::data
