#pragma once
// Word segmentation → the pieces' word starts. The ids are the tokenizer's,
// computed from the same text as always; only tok::Encoding::word_starts
// changes, so pretraining and fine-tuning see the same ids (no "##中" ids
// that exist only at pretraining time).
//
// Pieces are walked in order. A piece's CJK characters (in its own text,
// WordPiece's "##" and SentencePiece's "▁" stripped) must be the sentence's
// next CJK characters; a piece that begins with one starts a word unless that
// character continues a word. A boundary inside a piece ("北京大" from a
// SentencePiece model) keeps the piece one unit. Opaque pieces ([UNK], byte
// fallback) stand for up to one CJK character each, as the next piece that
// matches shows. A piece that does not match (normalisation changed a
// character) ends alignment for the sentence, which keeps the tokenizer's
// word starts from there. Fallbacks are counted.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/segmentation_counters.h"
#include "data/word_segmenter.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

// The CJK characters of every vocabulary piece, looked up once per build.
class PieceCjkTable {
 public:
  explicit PieceCjkTable(const tok::Tokenizer& tokenizer);

  std::u32string_view cjk(std::int32_t id) const {
    const auto i = static_cast<std::size_t>(id);
    return std::u32string_view(chars_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  bool starts_with_cjk(std::int32_t id) const { return flags_[static_cast<std::size_t>(id)] & kStartsWithCjk; }
  // The piece is one CJK character and nothing else.
  bool is_single_cjk(std::int32_t id) const { return flags_[static_cast<std::size_t>(id)] & kSingleCjk; }
  // [UNK] or a byte piece: which characters it stands for is not in its text.
  bool is_opaque(std::int32_t id) const { return flags_[static_cast<std::size_t>(id)] & kOpaque; }

 private:
  static constexpr std::uint8_t kStartsWithCjk = 1;
  static constexpr std::uint8_t kSingleCjk = 2;
  static constexpr std::uint8_t kOpaque = 4;
  std::u32string chars_;
  std::vector<std::uint32_t> offsets_{0};
  std::vector<std::uint8_t> flags_;
  std::int32_t unk_ = -1;
};

void align_word_starts(const PieceCjkTable& pieces, const SegmentedSentence& sentence, tok::Encoding& encoding,
                       SegmentationCounters& counters);

// Adds a segmented sentence's words (and those of 2+ CJK characters) to the counters.
void count_words(const PieceCjkTable& pieces, const tok::Encoding& encoding, SegmentationCounters& counters);

}  // namespace bf::data
