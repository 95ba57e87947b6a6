#pragma once
// One shard file: the tokens of whole documents, laid out so a memory map can
// be used in place. Little-endian, every section 8-byte aligned:
//
//   header (64 bytes)  magic "BFSHARD1", version, token width (2 or 4 bytes),
//                      token, sentence and document counts
//   tokens             num_tokens ids, uint16 or uint32
//   word starts        one bit per token (bit i%8 of byte i/8): 1 = starts a word
//   sentence offsets   num_sentences + 1 uint32 token offsets
//   document offsets   num_documents + 1 uint32 sentence offsets
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bf::data {

struct ShardHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t token_bytes;
  std::uint64_t num_tokens;
  std::uint64_t num_sentences;
  std::uint64_t num_documents;
  std::uint64_t reserved[3];
};
static_assert(sizeof(ShardHeader) == 64, "the header is part of the file format");

inline constexpr char kShardMagic[8] = {'B', 'F', 'S', 'H', 'A', 'R', 'D', '1'};
inline constexpr std::uint32_t kShardVersion = 1;

// The contents of one shard while it is being assembled.
struct ShardContents {
  std::vector<std::uint32_t> tokens;
  std::vector<std::uint8_t> word_starts;         // one byte per token here; packed on write
  std::vector<std::uint32_t> sentence_offsets{0};
  std::vector<std::uint32_t> document_offsets{0};

  std::size_t num_sentences() const { return sentence_offsets.size() - 1; }
  std::size_t num_documents() const { return document_offsets.size() - 1; }
};

std::string encode_shard(const ShardContents& contents, std::uint32_t token_bytes);

// A parsed, bounds-checked view of a shard's bytes (usually a memory map).
class ShardView {
 public:
  ShardView() = default;
  ShardView(const std::uint8_t* data, std::size_t size, const std::string& name);

  std::uint64_t num_tokens() const { return header_.num_tokens; }
  std::uint64_t num_sentences() const { return header_.num_sentences; }
  std::uint64_t num_documents() const { return header_.num_documents; }
  std::uint32_t token_bytes() const { return header_.token_bytes; }

  std::int32_t token(std::uint64_t i) const {
    return header_.token_bytes == 2 ? reinterpret_cast<const std::uint16_t*>(tokens_)[i]
                                    : static_cast<std::int32_t>(reinterpret_cast<const std::uint32_t*>(tokens_)[i]);
  }
  bool word_start(std::uint64_t i) const { return (word_starts_[i >> 3] >> (i & 7)) & 1; }
  std::uint32_t sentence_offset(std::uint64_t s) const { return sentence_offsets_[s]; }
  std::uint32_t document_offset(std::uint64_t d) const { return document_offsets_[d]; }

 private:
  ShardHeader header_{};
  const std::uint8_t* tokens_ = nullptr;
  const std::uint8_t* word_starts_ = nullptr;
  const std::uint32_t* sentence_offsets_ = nullptr;
  const std::uint32_t* document_offsets_ = nullptr;
};

}  // namespace bf::data
