#pragma once
// Google BERT's BasicTokenizer: text cleanup, spaces around CJK ideographs,
// optional lower-casing with accent stripping, and punctuation splitting.
// Its output words are what WordPiece then splits into pieces.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bf::tok {

struct BasicTokenizerOptions {
  bool lower_case = true;
  // Unset: strip accents exactly when lower-casing (Google; HF's default).
  std::optional<bool> strip_accents;
  bool tokenize_chinese_chars = true;
};

// The words of one text packed into one buffer, so that tokenizing a corpus
// allocates nothing per word once the buffers are warm.
class WordList {
 public:
  void clear() {
    bytes_.clear();
    ends_.clear();
  }
  std::size_t size() const { return ends_.size(); }
  std::string_view operator[](std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }
  // Words are built in place: append bytes, then close the word.
  std::string& bytes() { return bytes_; }
  void close_word() {
    const std::size_t begin = ends_.empty() ? 0 : ends_.back();
    if (bytes_.size() > begin) ends_.push_back(static_cast<std::uint32_t>(bytes_.size()));
  }

 private:
  std::string bytes_;
  std::vector<std::uint32_t> ends_;
};

class BasicTokenizer {
 public:
  explicit BasicTokenizer(BasicTokenizerOptions options = {});

  // Appends the words of text to words (which is not cleared). Bytes that are
  // not well-formed UTF-8 are dropped, as Google's decode("utf-8", "ignore").
  void tokenize(std::string_view text, WordList& words) const;
  std::vector<std::string> tokenize(std::string_view text) const;

  const BasicTokenizerOptions& options() const { return options_; }

 private:
  // One whitespace-separated token after cleanup, in the original case.
  void split_ascii_token(std::string_view token, WordList& words) const;
  void split_unicode_token(std::string_view token, WordList& words) const;

  BasicTokenizerOptions options_;
  bool strip_accents_;
};

}  // namespace bf::tok
