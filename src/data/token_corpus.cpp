#include "data/token_corpus.h"

#include <filesystem>

#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"

namespace bf::data {

TokenCorpus::~TokenCorpus() = default;

std::shared_ptr<const TokenCorpus> TokenCorpus::open(const std::string& dir, const std::string& split,
                                                     const TokenizerInfo* expected_tokenizer, bool verify_checksums) {
  std::shared_ptr<TokenCorpus> corpus(new TokenCorpus());
  corpus->dir_ = dir;
  corpus->split_ = split;
  corpus->manifest_ = Manifest::load(dir);
  if (expected_tokenizer) corpus->manifest_.check_tokenizer(*expected_tokenizer, dir);
  const SplitInfo& info = corpus->manifest_.split(split);
  for (const auto& shard : info.shards) {
    const std::string path = (std::filesystem::path(dir) / shard.file).string();
    if (!path_exists(path)) bf::fail(path + ": shard listed in the manifest is missing; rebuild the data");
    auto file = std::make_unique<MappedFile>(path);
    if (static_cast<std::int64_t>(file->size()) != shard.bytes) {
      bf::fail(path + ": " + std::to_string(file->size()) + " bytes, the manifest says " + std::to_string(shard.bytes) +
               " (truncated or replaced shard); rebuild the data");
    }
    if (verify_checksums) {
      const std::string actual = hash64_hex(std::string_view(reinterpret_cast<const char*>(file->data()), file->size()));
      if (actual != shard.xxh3) bf::fail(path + ": checksum mismatch (corrupt shard); rebuild the data");
    }
    ShardView view(file->data(), file->size(), path);
    if (view.token_bytes() != corpus->manifest_.token_bytes) bf::fail(path + ": token width differs from the manifest");
    const auto shard_index = static_cast<std::uint32_t>(corpus->shards_.size());
    for (std::uint64_t d = 0; d < view.num_documents(); ++d) {
      const std::uint32_t first = view.document_offset(d);
      corpus->documents_.push_back({shard_index, first, view.document_offset(d + 1) - first});
    }
    corpus->total_sentences_ += view.num_sentences();
    corpus->total_tokens_ += view.num_tokens();
    corpus->shards_.push_back(view);
    corpus->files_.push_back(std::move(file));
  }
  return corpus;
}

void TokenCorpus::append_sentence(std::uint32_t doc, std::uint32_t sentence, std::vector<std::int32_t>& ids,
                                  std::vector<std::uint8_t>& word_starts) const {
  const DocumentRef& d = documents_[doc];
  const ShardView& shard = shards_[d.shard];
  const std::uint32_t begin = shard.sentence_offset(d.first_sentence + sentence);
  const std::uint32_t end = shard.sentence_offset(d.first_sentence + sentence + 1);
  for (std::uint32_t i = begin; i < end; ++i) {
    ids.push_back(shard.token(i));
    word_starts.push_back(shard.word_start(i) ? 1 : 0);
  }
}

}  // namespace bf::data
