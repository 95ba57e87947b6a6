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

// The bytes of the original text one normalized character came from.
struct SourceSpan {
  std::size_t start = 0;
  std::size_t end = 0;
};

class BasicTokenizer {
 public:
  explicit BasicTokenizer(BasicTokenizerOptions options = {});

  // Appends the words of text to words (which is not cleared). Bytes that are
  // not well-formed UTF-8 are dropped, as Google's decode("utf-8", "ignore").
  void tokenize(std::string_view text, WordList& words) const;
  std::vector<std::string> tokenize(std::string_view text) const;
  // The same words, and for every byte appended to words.bytes() the span of
  // text its character came from (spans grows in step with words.bytes()).
  // A character lower-cased into two keeps its span on both; combining marks
  // removed with the accents widen the span of the character before them.
  void tokenize(std::string_view text, WordList& words, std::vector<SourceSpan>& spans) const;

  const BasicTokenizerOptions& options() const { return options_; }

 private:
  // kSpans: also track where each byte came from (encode_with_offsets);
  // without, the code is what encode always ran.
  template <bool kSpans>
  void tokenize_impl(std::string_view text, WordList& words, std::vector<SourceSpan>* spans) const;
  // One whitespace-separated token after cleanup, in the original case; at[i]
  // is the offset in the text of the token's byte i (kSpans only).
  template <bool kSpans>
  void split_ascii_token(std::string_view token, const std::size_t* at, WordList& words,
                         std::vector<SourceSpan>* spans) const;
  template <bool kSpans>
  void split_unicode_token(std::string_view token, const std::size_t* at, WordList& words,
                           std::vector<SourceSpan>* spans) const;

  BasicTokenizerOptions options_;
  bool strip_accents_;
};

}  // namespace bf::tok
