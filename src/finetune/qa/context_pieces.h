#pragma once
// A context as the model sees it (word pieces) with, for every piece, the
// bytes of the ORIGINAL context it came from. Predicted spans are cut from
// the original text with these, so an answer is always an exact substring of
// the context, whatever lower-casing and accent stripping did to the pieces.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace bf::ft::qa {

struct ByteSpan {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the last byte
  bool operator==(const ByteSpan& other) const { return begin == other.begin && end == other.end; }
};

struct ContextWord {
  ByteSpan span;        // in the original context
  int first_piece = 0;  // index into ContextPieces::ids
  int piece_count = 0;
};

struct ContextPieces {
  std::vector<ContextWord> words;
  std::vector<std::int32_t> ids;    // the pieces of every word, in order
  std::vector<ByteSpan> spans;      // per piece, in the original context
  std::vector<std::int32_t> word_of_piece;
  // Words whose pieces could not be matched character by character with the
  // original (an [UNK], or a normalisation that changed the length): every
  // piece of such a word spans the whole word.
  int whole_word_fallbacks = 0;

  std::size_t size() const { return ids.size(); }
  // The first and last piece covering bytes [bytes.begin, bytes.end): the
  // first piece ending after begin and the last one starting before end.
  // nullopt when no piece lies inside (the bytes are only spaces).
  std::optional<std::pair<int, int>> covering(ByteSpan bytes) const;
  // The original text from the first byte of piece `first` to the last byte of piece `last`.
  std::string_view text(std::string_view context, int first, int last) const;
};

// The words BERT's basic tokenizer makes of context (whitespace separates;
// punctuation and each CJK character stand alone; control characters are
// dropped), as byte spans of context, without tokenizing them.
std::vector<ByteSpan> context_words(std::string_view context, const tok::Tokenizer& tokenizer);

// Splits context into words and each word into pieces with tokenizer. For a
// WordPiece tokenizer the pieces equal tokenizer.encode(context).
ContextPieces split_context(std::string_view context, const tok::Tokenizer& tokenizer);

}  // namespace bf::ft::qa
