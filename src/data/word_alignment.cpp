#include "data/word_alignment.h"

#include <algorithm>
#include <cctype>

#include "tokenizer/unicode.h"

namespace bf::data {
namespace {

constexpr std::string_view kContinuation = "##";              // WordPiece
constexpr std::string_view kWordBoundary = "\xE2\x96\x81";  // SentencePiece's "▁"

std::string_view piece_text(std::string_view piece) {
  for (std::string_view marker : {kContinuation, kWordBoundary}) {
    if (piece.substr(0, marker.size()) == marker) return piece.substr(marker.size());
  }
  return piece;
}

// SentencePiece's byte fallback pieces, "<0xE5>".
bool is_byte_piece(std::string_view piece) {
  return piece.size() == 6 && piece.substr(0, 3) == "<0x" && piece[5] == '>' && std::isxdigit(piece[3]) &&
         std::isxdigit(piece[4]);
}

}  // namespace

PieceCjkTable::PieceCjkTable(const tok::Tokenizer& tokenizer) : unk_(tokenizer.special_ids().unk) {
  const std::int32_t size = tokenizer.vocab_size();
  offsets_.reserve(static_cast<std::size_t>(size) + 1);
  flags_.reserve(static_cast<std::size_t>(size));
  for (std::int32_t id = 0; id < size; ++id) {
    const std::string piece = tokenizer.id_to_token(id);
    const std::string_view text = piece_text(piece);
    std::uint8_t flags = 0;
    std::size_t characters = 0;
    const char* end = text.data() + text.size();
    for (const char* p = text.data(); p < end; ++characters) {
      char32_t cp;
      const int n = tok::unicode::decode_utf8(p, end, &cp);
      if (n == 0) {  // a piece that is not UTF-8 (byte pieces) holds no CJK character
        ++p;
        continue;
      }
      if (tok::unicode::is_cjk(cp)) {
        chars_.push_back(cp);
        if (characters == 0) flags |= kStartsWithCjk;
      }
      p += n;
    }
    if (characters == 1 && (flags & kStartsWithCjk)) flags |= kSingleCjk;
    if (id == unk_ || is_byte_piece(piece)) flags |= kOpaque;
    offsets_.push_back(static_cast<std::uint32_t>(chars_.size()));
    flags_.push_back(flags);
  }
}

void align_word_starts(const PieceCjkTable& pieces, const SegmentedSentence& sentence, tok::Encoding& encoding,
                       SegmentationCounters& counters) {
  const std::u32string_view text_cjk(sentence.cjk);
  std::size_t next = 0;    // the sentence's next CJK character
  std::size_t opaque = 0;  // [UNK] and byte pieces since the last CJK piece
  for (std::size_t i = 0; i < encoding.ids.size(); ++i) {
    const std::int32_t id = encoding.ids[i];
    if (pieces.is_opaque(id)) {
      ++opaque;
      continue;
    }
    const std::u32string_view cjk = pieces.cjk(id);
    if (cjk.empty()) continue;  // Latin, digits, punctuation: the tokenizer's own word start
    // Opaque pieces stand for up to one CJK character each (bert-base-chinese
    // has no “ ” or ——, so [UNK]s of punctuation are common): skip as many
    // characters as this piece needs. Without them the piece must match here.
    std::size_t skip = 0;
    while (skip <= opaque && text_cjk.substr(std::min(next + skip, text_cjk.size()), cjk.size()) != cjk) ++skip;
    if (skip > opaque) {
      ++counters.unaligned_sentences;
      return;
    }
    next += skip;
    opaque = 0;
    const bool starts_with_cjk = pieces.starts_with_cjk(id);
    if (starts_with_cjk) encoding.word_starts[i] = !sentence.continues[next];
    // A word that starts after the piece's first character cannot be masked on its own.
    for (std::size_t k = starts_with_cjk ? 1 : 0; k < cjk.size(); ++k) {
      if (!sentence.continues[next + k]) {
        ++counters.pieces_across_words;
        break;
      }
    }
    next += cjk.size();
  }
}

void count_words(const PieceCjkTable& pieces, const tok::Encoding& encoding, SegmentationCounters& counters) {
  ++counters.sentences;
  std::size_t cjk_in_word = 0;
  for (std::size_t i = 0; i < encoding.ids.size(); ++i) {
    if (i == 0 || encoding.word_starts[i]) {
      if (i > 0 && cjk_in_word >= 2) ++counters.multi_char_words;
      ++counters.words;
      cjk_in_word = 0;
    }
    cjk_in_word += pieces.cjk(encoding.ids[i]).size();
  }
  if (!encoding.ids.empty() && cjk_in_word >= 2) ++counters.multi_char_words;
}

}  // namespace bf::data
