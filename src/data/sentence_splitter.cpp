#include "data/sentence_splitter.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "data/line_cleaner.h"

namespace bf::data {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Closing quotes and brackets that may follow the end of a sentence.
std::size_t closing_mark_length(std::string_view s) {
  if (s.empty()) return 0;
  if (s[0] == '"' || s[0] == '\'' || s[0] == ')' || s[0] == ']') return 1;
  for (std::string_view mark : {"\u201D", "\u2019", "\u300D", "\u300F", "\uFF09", "\u300B"}) {
    if (starts_with(s, mark)) return mark.size();
  }
  return 0;
}

// Full-width sentence ends: 。！？
std::size_t cjk_end_length(std::string_view s) {
  for (std::string_view mark : {"\u3002", "\uFF01", "\uFF1F"}) {
    if (starts_with(s, mark)) return mark.size();
  }
  return 0;
}

bool is_abbreviation(std::string_view word) {
  static const std::array<std::string_view, 40> kAbbreviations = {
      "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "rev", "gen", "col", "capt", "lt", "sgt",
      "gov", "sen", "rep", "hon", "messrs", "mme", "mlle", "vs", "etc", "e.g", "i.e", "cf", "no", "vol",
      "fig", "inc", "ltd", "co", "corp", "jan", "feb", "aug", "sept", "oct", "nov", "dec"};
  std::string lower(word);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(kAbbreviations.begin(), kAbbreviations.end(), lower) != kAbbreviations.end();
}

// The word that ends just before position `end` (the period), for the abbreviation test.
std::string_view word_before(std::string_view text, std::size_t end) {
  std::size_t start = end;
  while (start > 0 && !is_space(text[start - 1]) && text[start - 1] != '(' && text[start - 1] != '"') --start;
  return text.substr(start, end - start);
}

bool opens_sentence(std::string_view rest) {
  if (rest.empty()) return false;
  const auto c = static_cast<unsigned char>(rest[0]);
  if (std::isupper(c) || std::isdigit(c) || c == '"' || c == '\'' || c == '(' || c == '[') return true;
  if (c >= 0x80) {
    // Non-ASCII: opening curly quotes start a sentence; any other letter is
    // accepted (no case information without tables).
    return !starts_with(rest, "\u2019") && !starts_with(rest, "\u201D");
  }
  return false;
}

}  // namespace

std::vector<std::string_view> split_sentences(std::string_view paragraph) {
  std::vector<std::string_view> sentences;
  std::size_t start = 0;
  std::size_t i = 0;
  auto emit = [&](std::size_t end) {
    std::string_view sentence = trim(paragraph.substr(start, end - start));
    if (!sentence.empty()) sentences.push_back(sentence);
    start = end;
  };
  while (i < paragraph.size()) {
    const char c = paragraph[i];
    if (const std::size_t n = cjk_end_length(paragraph.substr(i))) {
      std::size_t end = i + n;
      while (end < paragraph.size() && (cjk_end_length(paragraph.substr(end)) || closing_mark_length(paragraph.substr(end)))) {
        end += std::max(cjk_end_length(paragraph.substr(end)), closing_mark_length(paragraph.substr(end)));
      }
      emit(end);
      i = end;
      continue;
    }
    if (c == '.' || c == '!' || c == '?') {
      std::size_t end = i + 1;
      while (end < paragraph.size() && (paragraph[end] == '.' || paragraph[end] == '!' || paragraph[end] == '?')) ++end;
      while (const std::size_t n = closing_mark_length(paragraph.substr(end))) end += n;
      std::size_t next = end;
      while (next < paragraph.size() && is_space(paragraph[next])) ++next;
      const bool has_space = next > end;
      bool split = has_space && opens_sentence(paragraph.substr(next));
      if (split && c == '.' && end == i + 1) {
        const std::string_view word = word_before(paragraph, i);
        const bool initial = word.size() == 1 && std::isupper(static_cast<unsigned char>(word[0]));
        if (initial || is_abbreviation(word)) split = false;
      }
      if (split) {
        emit(end);
        i = next;
        continue;
      }
      i = end;
      continue;
    }
    const std::size_t n = static_cast<unsigned char>(c) < 0x80 ? 1 : utf8_sequence_length(paragraph.substr(i));
    i += n == 0 ? 1 : n;
  }
  emit(paragraph.size());
  return sentences;
}

}  // namespace bf::data
