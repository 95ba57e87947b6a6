#include "data/word_segmentation.h"

#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"

namespace bf::data {

WordSegmentation::WordSegmentation(const DataConfig& config, const tok::Tokenizer& tokenizer)
    : tokenizer_(tokenizer), mode_(config.word_segmentation), user_words_path_(config.user_words),
      refs_path_(config.word_refs) {
  if (mode_ == "none" && refs_path_.empty()) return;
  pieces_.emplace(tokenizer);
  if (mode_ != "none") {
    std::shared_ptr<const UserLexicon> lexicon;
    if (!user_words_path_.empty()) lexicon = std::make_shared<const UserLexicon>(UserLexicon::load(user_words_path_));
    segmenter_.emplace(parse_segmentation_mode(mode_), std::move(lexicon));
  }
  if (!refs_path_.empty()) {
    const auto files = expand_inputs(config.inputs);
    if (files.size() != 1) {
      bf::fail("data.word_refs: a ref file belongs to one corpus file, but data.inputs match " +
               std::to_string(files.size()) + " files");
    }
    refs_.emplace(WordRefs::load(refs_path_, files.front().first));
  }
}

std::string WordSegmentation::content_identity(const DataConfig& config) {
  std::string identity;
  for (const auto& [key, path] : {std::pair<std::string, std::string>{"user_words", config.user_words},
                                  std::pair<std::string, std::string>{"word_refs", config.word_refs}}) {
    if (path.empty()) continue;
    if (!path_exists(path)) bf::fail("data." + key + ": " + path + ": no such file");
    identity += "\n" + key + ": " + hash_file_hex(path);
  }
  return identity;
}

WordSegmentation::Encoder::Encoder(const WordSegmentation& owner) : owner_(owner) {
  if (owner.segmenter_) segmenter_.emplace(*owner.segmenter_);
}

tok::Encoding WordSegmentation::Encoder::encode(std::string_view sentence) {
  if (!segmenter_) return owner_.tokenizer_.encode(sentence);
  segmenter_->segment(sentence, sentence_);
  tok::Encoding encoding = owner_.tokenizer_.encode(sentence_.text);
  align_word_starts(*owner_.pieces_, sentence_, encoding, counters);
  counters.user_word_hits += sentence_.user_word_hits;
  count_words(*owner_.pieces_, encoding, counters);
  return encoding;
}

void WordSegmentation::finish_document(const Document& document, std::vector<tok::Encoding>& encodings,
                                       SegmentationCounters& counters) const {
  if (!refs_) return;
  refs_->apply(*pieces_, document, encodings);
  for (const auto& encoding : encodings) count_words(*pieces_, encoding, counters);
}

nlohmann::json WordSegmentation::describe(const SegmentationCounters& counters) const {
  if (!enabled()) return nullptr;
  nlohmann::json j = {{"mode", refs_ ? std::string("word_refs") : mode_}};
  if (!refs_path_.empty()) j["word_refs"] = refs_path_;
  if (!user_words_path_.empty()) j["user_words"] = user_words_path_;
  j.update(counters.to_json());
  return j;
}

}  // namespace bf::data
