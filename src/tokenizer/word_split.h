#pragma once
// Raw text -> the words BERT's basic tokenizer would make of it, as spans of
// the ORIGINAL text (bytes and code points), without changing a character:
// whitespace separates; each punctuation mark and each CJK ideograph is a word
// alone; control characters are dropped without splitting. Token
// classification of raw text tags these words and reports where they sit, so
// an entity's text is an exact slice of what the client sent.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace bf::tok {

// The tokenizer options that move word boundaries.
struct WordSplitOptions {
  bool cjk_alone = true;  // tokenize_chinese_chars
  // Accent stripping runs before punctuation splitting, so a character that
  // decomposes to punctuation (U+1FEF GREEK VARIA is "`") stands alone too.
  bool strip_accents = true;
};

// A WordPiece tokenizer's options; BERT's defaults for any other.
WordSplitOptions word_split_options(const Tokenizer& tokenizer);

struct SplitWord {
  std::size_t begin = 0, end = 0;           // bytes of the text, end exclusive
  std::int64_t char_begin = 0, char_end = 0;  // code points (Python str indices), end exclusive
  std::string_view text(std::string_view all) const { return all.substr(begin, end - begin); }
};

// The words of text. A word's span runs from its first kept character to its
// last, so a control character inside a word is in its span (the tokenizer
// drops it) and one at its edge is not. Bytes that are not UTF-8 are dropped
// and counted as one code point each (callers check UTF-8 first).
std::vector<SplitWord> split_words(std::string_view text, const WordSplitOptions& options = {});

}  // namespace bf::tok
