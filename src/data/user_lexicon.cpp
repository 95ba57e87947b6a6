#include "data/user_lexicon.h"

#include <fstream>

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bf::data {
namespace {

std::uint64_t edge_key(std::int32_t node, char32_t cp) {
  return (static_cast<std::uint64_t>(node) << 21) | static_cast<std::uint64_t>(cp);
}

// The codepoints of a line without its surrounding whitespace; false when the
// bytes are not UTF-8.
bool decode_word(const std::string& line, std::u32string& word) {
  word.clear();
  const char* p = line.data();
  const char* end = p + line.size();
  while (p < end) {
    char32_t cp;
    const int n = tok::unicode::decode_utf8(p, end, &cp);
    if (n == 0) return false;
    word.push_back(cp);
    p += n;
  }
  auto space = [](char32_t cp) { return cp == 0xFEFF || tok::unicode::is_whitespace(cp); };
  while (!word.empty() && space(word.back())) word.pop_back();
  std::size_t first = 0;
  while (first < word.size() && space(word[first])) ++first;
  word.erase(0, first);
  return true;
}

}  // namespace

UserLexicon UserLexicon::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bf::fail("data.user_words: cannot read " + path);
  UserLexicon lexicon;
  std::string line;
  std::u32string word;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!decode_word(line, word)) {
      bf::fail(path + ":" + std::to_string(number) + ": not valid UTF-8 (data.user_words must be a UTF-8 text file)");
    }
    if (word.empty() || word[0] == U'#') continue;
    lexicon.add(word);
  }
  return lexicon;
}

UserLexicon UserLexicon::from_words(const std::vector<std::string>& words, const std::string& source) {
  UserLexicon lexicon;
  std::u32string word;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!decode_word(words[i], word)) bf::fail(source + ": word " + std::to_string(i + 1) + " is not valid UTF-8");
    if (!word.empty() && word[0] != U'#') lexicon.add(word);
  }
  return lexicon;
}

void UserLexicon::add(const std::u32string& word) {
  std::int32_t node = 0;
  for (char32_t cp : word) {
    const auto [it, inserted] = edges_.try_emplace(edge_key(node, cp), static_cast<std::int32_t>(is_word_.size()));
    if (inserted) is_word_.push_back(0);
    node = it->second;
  }
  if (!is_word_[static_cast<std::size_t>(node)]) ++words_;
  is_word_[static_cast<std::size_t>(node)] = 1;
}

std::int32_t UserLexicon::child(std::int32_t node, char32_t cp) const {
  const auto it = edges_.find(edge_key(node, cp));
  return it == edges_.end() ? -1 : it->second;
}

std::size_t UserLexicon::longest_match(const char32_t* text, std::size_t length) const {
  std::size_t longest = 0;
  std::int32_t node = 0;
  for (std::size_t i = 0; i < length; ++i) {
    node = child(node, text[i]);
    if (node < 0) break;
    if (is_word_[static_cast<std::size_t>(node)]) longest = i + 1;
  }
  return longest;
}

}  // namespace bf::data
