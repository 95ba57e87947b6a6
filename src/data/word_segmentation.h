#pragma once
// The word segmentation of one `data build` (data.word_segmentation,
// data.user_words, data.word_refs): loaded and checked before any shard is
// written, then applied sentence by sentence on the tokenizing threads.
// With word_segmentation: none and no word_refs nothing here runs and the
// shards are byte for byte what they were before segmentation existed.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/corpus_reader.h"
#include "data/data_config.h"
#include "data/segmentation_counters.h"
#include "data/user_lexicon.h"
#include "data/word_alignment.h"
#include "data/word_refs.h"
#include "data/word_segmenter.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

class WordSegmentation {
 public:
  // Loads the lexicon and the ref file and checks them against the corpus;
  // errors name the file and line.
  WordSegmentation(const DataConfig& config, const tok::Tokenizer& tokenizer);

  // Text that joins the build key: the lexicon's and ref file's contents
  // (their paths are in the config). Fails when a named file is missing.
  static std::string content_identity(const DataConfig& config);

  bool enabled() const { return segmenter_.has_value() || refs_.has_value(); }

  // Tokenizes sentences for one thread (each holds its own ICU iterator).
  class Encoder {
   public:
    tok::Encoding encode(std::string_view sentence);
    SegmentationCounters counters;

   private:
    friend class WordSegmentation;
    Encoder(const WordSegmentation& owner);
    const WordSegmentation& owner_;
    std::optional<WordSegmenter> segmenter_;
    SegmentedSentence sentence_;
  };
  Encoder encoder() const { return Encoder(*this); }

  // After a document's sentences are tokenized: the ref file's positions,
  // and the counts of its words.
  void finish_document(const Document& document, std::vector<tok::Encoding>& encodings,
                       SegmentationCounters& counters) const;

  // manifest.json's "segmentation" object (null when disabled).
  nlohmann::json describe(const SegmentationCounters& counters) const;

 private:
  const tok::Tokenizer& tokenizer_;
  std::string mode_;
  std::string user_words_path_;
  std::string refs_path_;
  std::optional<PieceCjkTable> pieces_;
  std::optional<WordSegmenter> segmenter_;
  std::optional<WordRefs> refs_;
};

}  // namespace bf::data
