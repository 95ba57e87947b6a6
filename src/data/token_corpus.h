#pragma once
// Read access to one split of a shard directory: documents → sentences →
// token ids and word starts, straight from memory-mapped shard files. Nothing
// is copied at open time beyond a small table with one entry per document.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "data/shard_file.h"

namespace bf {
class MappedFile;
}

namespace bf::data {

class TokenCorpus {
 public:
  // Checks the manifest, the tokenizer (when given) and each shard's size
  // and, with verify_checksums, its XXH3 checksum.
  static std::shared_ptr<const TokenCorpus> open(const std::string& dir, const std::string& split,
                                                 const TokenizerInfo* expected_tokenizer = nullptr,
                                                 bool verify_checksums = true);
  ~TokenCorpus();

  const Manifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }
  const std::string& split() const { return split_; }

  std::uint32_t num_documents() const { return static_cast<std::uint32_t>(documents_.size()); }
  std::uint32_t num_sentences(std::uint32_t doc) const { return documents_[doc].num_sentences; }
  std::uint64_t total_sentences() const { return total_sentences_; }
  std::uint64_t total_tokens() const { return total_tokens_; }

  std::uint32_t sentence_length(std::uint32_t doc, std::uint32_t sentence) const {
    const DocumentRef& d = documents_[doc];
    const ShardView& shard = shards_[d.shard];
    return shard.sentence_offset(d.first_sentence + sentence + 1) - shard.sentence_offset(d.first_sentence + sentence);
  }

  // Appends the tokens (and word-start flags) of sentence `sentence` of `doc`.
  void append_sentence(std::uint32_t doc, std::uint32_t sentence, std::vector<std::int32_t>& ids,
                       std::vector<std::uint8_t>& word_starts) const;

 private:
  TokenCorpus() = default;

  struct DocumentRef {
    std::uint32_t shard;
    std::uint32_t first_sentence;  // within the shard
    std::uint32_t num_sentences;
  };

  std::string dir_;
  std::string split_;
  Manifest manifest_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::vector<ShardView> shards_;
  std::vector<DocumentRef> documents_;
  std::uint64_t total_sentences_ = 0;
  std::uint64_t total_tokens_ = 0;
};

}  // namespace bf::data
