#include "tokenizer/wordpiece.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace bf::tok {
namespace {

std::size_t count_chars(std::string_view word) {
  std::size_t n = 0;
  for (char c : word) n += !unicode::is_continuation_byte(static_cast<unsigned char>(c));
  return n;
}

}  // namespace

void wordpiece_word(const WordPieceVocab& vocab, std::string_view word, int max_chars, std::int32_t unk_id,
                    Encoding& out) {
  // Most words are shorter than the limit in bytes already; counting
  // characters is only needed for the long ones.
  if (word.size() > static_cast<std::size_t>(max_chars) && count_chars(word) > static_cast<std::size_t>(max_chars)) {
    out.ids.push_back(unk_id);
    out.word_starts.push_back(1);
    return;
  }
  const std::size_t first = out.ids.size();
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = std::min(word.size(), start + vocab.max_piece_bytes());
    std::int32_t id = -1;
    for (; end > start; --end) {
      // Pieces end on character boundaries, as Python slices a str.
      if (end < word.size() && unicode::is_continuation_byte(static_cast<unsigned char>(word[end]))) continue;
      const std::string_view piece = word.substr(start, end - start);
      id = start == 0 ? vocab.word_start_id(piece) : vocab.continuation_id(piece);
      if (id >= 0) break;
    }
    if (id < 0) {
      out.ids.resize(first);
      out.word_starts.resize(first);
      out.ids.push_back(unk_id);
      out.word_starts.push_back(1);
      return;
    }
    out.ids.push_back(id);
    out.word_starts.push_back(start == 0);
    start = end;
  }
}

}  // namespace bf::tok
