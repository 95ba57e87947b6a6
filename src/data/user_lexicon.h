#pragma once
// data.user_words: a user's lexicon of words that segmentation must keep whole
// (domain terms such as 阿司匹林 or 北京大学附属医院 that ICU's dictionary or an
// external segmenter splits). One word per line, UTF-8; blank lines and lines
// starting with '#' are ignored. Occurrences are found greedily,
// leftmost-longest, over codepoints with a trie.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace bf::data {

class UserLexicon {
 public:
  // Reads and checks the file; a line that is not UTF-8 is an error naming
  // the file and line.
  static UserLexicon load(const std::string& path);
  // From words already in memory, by the same rules (tests).
  static UserLexicon from_words(const std::vector<std::string>& words, const std::string& source = "user words");

  std::size_t size() const { return words_; }
  // Length in codepoints of the longest word starting at text[0], 0 if none.
  std::size_t longest_match(const char32_t* text, std::size_t length) const;

 private:
  void add(const std::u32string& word);
  std::int32_t child(std::int32_t node, char32_t cp) const;

  // Trie edges keyed by (node, codepoint): codepoints need 21 bits.
  std::unordered_map<std::uint64_t, std::int32_t> edges_;
  std::vector<std::uint8_t> is_word_{0};  // per node; node 0 is the root
  std::size_t words_ = 0;
};

}  // namespace bf::data
