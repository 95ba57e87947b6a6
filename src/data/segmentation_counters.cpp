#include "data/segmentation_counters.h"

#include <cstdio>

namespace bf::data {

void SegmentationCounters::add(const SegmentationCounters& other) {
  sentences += other.sentences;
  words += other.words;
  multi_char_words += other.multi_char_words;
  pieces_across_words += other.pieces_across_words;
  unaligned_sentences += other.unaligned_sentences;
  user_word_hits += other.user_word_hits;
}

nlohmann::json SegmentationCounters::to_json() const {
  return {{"sentences", sentences},
          {"words", words},
          {"multi_char_words", multi_char_words},
          {"fallbacks", fallbacks()},
          {"pieces_across_words", pieces_across_words},
          {"unaligned_sentences", unaligned_sentences},
          {"user_word_hits", user_word_hits}};
}

namespace {

std::string percent(std::int64_t part, std::int64_t whole) {
  char buffer[32];
  const double share = whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
  std::snprintf(buffer, sizeof buffer, "%.1f%%", share);
  return buffer;
}

std::string format_line(std::int64_t sentences, std::int64_t words, std::int64_t multi, std::int64_t across,
                        std::int64_t unaligned, std::int64_t hits) {
  return std::to_string(words) + " words, " + std::to_string(multi) + " of 2+ CJK characters (" +
         percent(multi, words) + "); fallbacks: " + std::to_string(across) + " pieces across a word boundary, " +
         std::to_string(unaligned) + " of " + std::to_string(sentences) + " sentences not aligned to the end; " +
         std::to_string(hits) + " user-word hits";
}

}  // namespace

std::string SegmentationCounters::summary() const {
  return format_line(sentences, words, multi_char_words, pieces_across_words, unaligned_sentences, user_word_hits);
}

std::string describe_segmentation(const nlohmann::json& segmentation) {
  if (!segmentation.is_object() || segmentation.empty()) return "";
  auto count = [&](const char* key) { return segmentation.value(key, std::int64_t{0}); };
  std::string line = segmentation.value("mode", std::string("?"));
  for (const char* file : {"word_refs", "user_words"}) {
    if (segmentation.contains(file)) {
      line += std::string(" (") + file + " " + segmentation[file].get<std::string>() + ")";
    }
  }
  return line + ": " +
         format_line(count("sentences"), count("words"), count("multi_char_words"), count("pieces_across_words"),
                     count("unaligned_sentences"), count("user_word_hits"));
}

}  // namespace bf::data
