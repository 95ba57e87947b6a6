#pragma once
// Greedy longest-match-first WordPiece over one word, as Google's
// WordpieceTokenizer: a word that cannot be covered entirely, or that has more
// than max_chars characters, becomes a single [UNK].
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/wordpiece_vocab.h"

namespace bf::tok {

// Appends the pieces of word to out; the first one starts a word.
void wordpiece_word(const WordPieceVocab& vocab, std::string_view word, int max_chars, std::int32_t unk_id,
                    Encoding& out);

}  // namespace bf::tok
