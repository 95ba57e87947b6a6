#pragma once
// Chinese word segmentation of one sentence, before the tokenizer sees it
// (data.word_segmentation). The result is a flag per CJK character of the
// text: does it continue the word of what comes before it? Alignment
// (word_alignment.h) turns the flags into the pieces' word starts; the ids
// never change.
//   icu           ICU's dictionary word breaks (locale "zh") of each maximal
//                 run of two or more CJK characters (icu_cjk_dictionary.h
//                 computes them for runs of BMP Han, the iterator the rest).
//   pretokenized  the text already holds words separated by spaces (jieba,
//                 LTP, pkuseg, ...): whitespace between two CJK characters is
//                 a word boundary and is removed; other whitespace stays text.
// A user lexicon then keeps its words whole wherever they occur.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/icu_cjk_dictionary.h"
#include "data/user_lexicon.h"

namespace bf::data {

enum class SegmentationMode { kIcu, kPretokenized };

struct SegmentedSentence {
  std::string text;                      // what the tokenizer reads
  std::u32string cjk;                    // the CJK characters of text, in order
  std::vector<std::uint8_t> continues;   // per CJK character: 1 = inside a word begun before it
  std::int64_t user_word_hits = 0;
};

class WordSegmenter {
 public:
  explicit WordSegmenter(SegmentationMode mode, std::shared_ptr<const UserLexicon> lexicon = nullptr);
  // ICU's iterators are not thread-safe: a copy gets its own clone, so each
  // tokenizing thread segments with its own copy.
  WordSegmenter(const WordSegmenter& other);
  WordSegmenter& operator=(const WordSegmenter&) = delete;
  ~WordSegmenter();

  void segment(std::string_view sentence, SegmentedSentence& out);

 private:
  struct Icu;
  void split_spaced(std::string_view sentence, SegmentedSentence& out);
  void split_with_icu(std::string_view sentence, SegmentedSentence& out);
  void apply_lexicon(SegmentedSentence& out);

  SegmentationMode mode_;
  std::shared_ptr<const UserLexicon> lexicon_;
  std::unique_ptr<Icu> icu_;
  const IcuCjkDictionary* dictionary_ = nullptr;  // the fast path for runs of BMP Han characters
  // Per-sentence scratch, kept to avoid allocations.
  std::vector<std::uint32_t> cjk_offsets_;  // byte offset of each CJK character in the text
  std::u32string codepoints_;
  std::vector<std::int32_t> cjk_index_;     // per codepoint: its index among the CJK characters, or -1
  std::vector<std::uint8_t> run_starts_;
};

// "icu" / "pretokenized" (the config's names).
SegmentationMode parse_segmentation_mode(const std::string& name);

}  // namespace bf::data
