#pragma once
// What word segmentation did to a build, counted so that alignment never
// fails silently: manifest.json's "segmentation" object, the build's log
// line and `data inspect` show it.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace bf::data {

struct SegmentationCounters {
  std::int64_t sentences = 0;
  std::int64_t words = 0;                // word starts of the segmented sentences
  std::int64_t multi_char_words = 0;     // words of two or more CJK characters
  std::int64_t pieces_across_words = 0;  // a boundary fell inside a piece: the piece stayed one unit
  std::int64_t unaligned_sentences = 0;  // a piece did not match the text (normalisation):
                                         // the tokenizer's word starts were kept from there on
  std::int64_t user_word_hits = 0;       // occurrences of data.user_words

  std::int64_t fallbacks() const { return pieces_across_words + unaligned_sentences; }
  void add(const SegmentationCounters& other);
  nlohmann::json to_json() const;  // the counters, fallbacks included
  std::string summary() const;     // one line for logs
};

// The manifest's "segmentation" object as one line ("" when it is empty).
std::string describe_segmentation(const nlohmann::json& segmentation);

}  // namespace bf::data
