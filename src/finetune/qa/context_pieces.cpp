#include "finetune/qa/context_pieces.h"

#include <utf8proc.h>

#include <algorithm>
#include <string>

#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace bf::ft::qa {
namespace {

namespace unicode = tok::unicode;

// How the basic tokenizer treats one character of the context.
enum class CharKind { Removed, Space, Alone, Word };

// The tokenizer options that change where words end. Tokenizers other than
// WordPiece get BERT's defaults.
struct SplitRules {
  bool cjk_alone = true;
  bool strip_accents = true;
};

SplitRules split_rules(const tok::Tokenizer& tokenizer) {
  SplitRules rules;
  if (const auto* wordpiece = dynamic_cast<const tok::WordPieceTokenizer*>(&tokenizer)) {
    const tok::WordPieceOptions& options = wordpiece->options();
    rules.cjk_alone = options.tokenize_chinese_chars;
    rules.strip_accents = options.strip_accents.value_or(options.do_lower_case);
  }
  return rules;
}

// Canonical decomposition of one character; returns how many code points it
// wrote (at most 16), or 0 when it does not fit.
int decompose(char32_t cp, utf8proc_int32_t (&out)[16]) {
  int boundclass = 0;
  const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), out, 16, UTF8PROC_DECOMPOSE, &boundclass);
  return n > 0 && n <= 16 ? static_cast<int>(n) : 0;
}

// The characters cp leaves after NFD and dropping combining marks (Mn): what
// accent stripping keeps of it. Counted the same way on the original and on
// the pieces, the two sides agree whatever the tokenizer's case and accent
// options (a cased "é" is one on both sides, an uncased "e" too).
int folded_length(char32_t cp) {
  if (cp < 0x80) return 1;
  utf8proc_int32_t parts[16];
  const int n = decompose(cp, parts);
  if (n == 0) return 1;
  int kept = 0;
  for (int i = 0; i < n; ++i) kept += !unicode::is_nonspacing_mark(static_cast<char32_t>(parts[i]));
  return kept;
}

int folded_length(std::string_view text) {
  int total = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    char32_t cp = 0;
    const int length = unicode::decode_utf8(p, end, &cp);
    if (length == 0) {
      ++p;
      continue;
    }
    total += folded_length(cp);
    p += length;
  }
  return total;
}

// Accent stripping runs before punctuation splitting, so a character whose
// decomposition is punctuation (U+1FEF GREEK VARIA is "`") splits like one.
bool decomposes_to_punctuation(char32_t cp) {
  utf8proc_int32_t parts[16];
  const int n = decompose(cp, parts);
  for (int i = 0; i < n; ++i)
    if (unicode::is_punctuation(static_cast<char32_t>(parts[i]))) return true;
  return false;
}

CharKind ascii_kind(unsigned char c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return CharKind::Space;
  if (c < 0x20 || c == 0x7F) return CharKind::Removed;
  return unicode::is_punctuation(c) ? CharKind::Alone : CharKind::Word;
}

CharKind unicode_kind(char32_t cp, const SplitRules& rules) {
  if (cp == 0xFFFD || unicode::is_control(cp)) return CharKind::Removed;
  if (unicode::is_whitespace(cp) || unicode::is_extra_split_space(cp)) return CharKind::Space;
  if (rules.cjk_alone && unicode::is_cjk(cp)) return CharKind::Alone;
  if (unicode::is_punctuation(cp)) return CharKind::Alone;
  if (rules.strip_accents && decomposes_to_punctuation(cp)) return CharKind::Alone;
  return CharKind::Word;
}

struct WordChar {
  ByteSpan bytes;
  int folded = 1;
};

// Calls on_word(span, chars) for every word of context; chars are the word's
// characters that the tokenizer keeps (control characters inside a word are
// dropped by it without splitting the word, so they are in the span only).
template <typename OnWord>
void for_each_word(std::string_view context, const SplitRules& rules, OnWord on_word) {
  std::vector<WordChar> chars;
  auto close = [&] {
    if (chars.empty()) return;
    on_word(ByteSpan{chars.front().bytes.begin, chars.back().bytes.end}, chars);
    chars.clear();
  };
  const char* base = context.data();
  const char* p = base;
  const char* end = base + context.size();
  while (p < end) {
    const auto byte = static_cast<unsigned char>(*p);
    char32_t cp = byte;
    int length = 1;
    CharKind kind = CharKind::Removed;  // bytes that are not UTF-8 are dropped
    if (byte < 0x80) {
      kind = ascii_kind(byte);
    } else if ((length = unicode::decode_utf8(p, end, &cp)) > 0) {
      kind = unicode_kind(cp, rules);
    } else {
      length = 1;
    }
    const auto begin = static_cast<std::size_t>(p - base);
    const WordChar word_char{ByteSpan{begin, begin + static_cast<std::size_t>(length)}, folded_length(cp)};
    p += length;
    switch (kind) {
      case CharKind::Removed:
        break;
      case CharKind::Space:
        close();
        break;
      case CharKind::Alone:
        close();
        chars.push_back(word_char);
        close();
        break;
      case CharKind::Word:
        chars.push_back(word_char);
        break;
    }
  }
  close();
}

// The text of a piece without its continuation marker.
std::string_view piece_body(std::string_view token, bool word_start, bool sentencepiece) {
  if (sentencepiece) {
    constexpr std::string_view kSpaceMark = "\u2581";
    if (token.substr(0, kSpaceMark.size()) == kSpaceMark) token.remove_prefix(kSpaceMark.size());
  } else if (!word_start && token.substr(0, 2) == "##") {
    token.remove_prefix(2);
  }
  return token;
}

class PieceMapper {
 public:
  PieceMapper(std::string_view context, const tok::Tokenizer& tokenizer, ContextPieces& out)
      : context_(context),
        tokenizer_(tokenizer),
        unk_(tokenizer.special_ids().unk),
        sentencepiece_(tokenizer.type() == "sentencepiece"),
        out_(out) {}

  void add_word(ByteSpan span, const std::vector<WordChar>& chars) {
    const tok::Encoding encoding = tokenizer_.encode(context_.substr(span.begin, span.end - span.begin));
    const int word = static_cast<int>(out_.words.size());
    const int first = static_cast<int>(out_.ids.size());
    out_.words.push_back(ContextWord{span, first, static_cast<int>(encoding.ids.size())});
    for (std::int32_t id : encoding.ids) {
      out_.ids.push_back(id);
      out_.word_of_piece.push_back(word);
    }
    if (!map_by_characters(encoding, chars)) {
      if (encoding.ids.size() > 1) ++out_.whole_word_fallbacks;
      out_.spans.resize(out_.ids.size(), span);
    }
  }

 private:
  // Lower-casing and accent stripping keep the number of (folded)
  // characters in all but exotic cases; then the k-th folded character of
  // the pieces is the k-th of the original word, and each piece maps back to
  // the original characters it came from.
  bool map_by_characters(const tok::Encoding& encoding, const std::vector<WordChar>& chars) {
    std::vector<int> piece_lengths;
    int piece_total = 0;
    for (std::size_t k = 0; k < encoding.ids.size(); ++k) {
      if (encoding.ids[k] == unk_) return false;
      const std::string token = tokenizer_.id_to_token(encoding.ids[k]);
      piece_lengths.push_back(folded_length(piece_body(token, encoding.word_starts[k] != 0, sentencepiece_)));
      piece_total += piece_lengths.back();
    }
    std::vector<int> owner;  // folded character -> index into chars
    for (std::size_t c = 0; c < chars.size(); ++c) owner.insert(owner.end(), chars[c].folded, static_cast<int>(c));
    if (owner.empty() || static_cast<int>(owner.size()) != piece_total) return false;
    // A character's span takes the combining marks after it, which
    // accent stripping folded into it.
    std::vector<std::size_t> end_with_marks(chars.size());
    for (std::size_t c = chars.size(); c-- > 0;)
      end_with_marks[c] = c + 1 < chars.size() && chars[c + 1].folded == 0 ? end_with_marks[c + 1] : chars[c].bytes.end;
    int at = 0;
    for (int length : piece_lengths) {
      // A piece of no folded characters (a lone combining mark kept by a
      // cased tokenizer) sits on the character before it.
      const int first = length > 0 ? at : std::max(at - 1, 0);
      const int last = length > 0 ? at + length - 1 : first;
      out_.spans.push_back(ByteSpan{chars[owner[first]].bytes.begin, end_with_marks[owner[last]]});
      at += length;
    }
    return true;
  }

  std::string_view context_;
  const tok::Tokenizer& tokenizer_;
  std::int32_t unk_;
  bool sentencepiece_;
  ContextPieces& out_;
};

}  // namespace

std::optional<std::pair<int, int>> ContextPieces::covering(ByteSpan bytes) const {
  // Piece spans never go backwards (begins and ends both non-decreasing).
  const auto first = std::partition_point(spans.begin(), spans.end(),
                                          [&](const ByteSpan& span) { return span.end <= bytes.begin; });
  const auto after_last = std::partition_point(spans.begin(), spans.end(),
                                               [&](const ByteSpan& span) { return span.begin < bytes.end; });
  if (first == spans.end() || after_last == spans.begin() || first >= after_last) return std::nullopt;
  return std::make_pair(static_cast<int>(first - spans.begin()), static_cast<int>(after_last - spans.begin()) - 1);
}

std::string_view ContextPieces::text(std::string_view context, int first, int last) const {
  const ByteSpan from = spans.at(static_cast<std::size_t>(first));
  const ByteSpan to = spans.at(static_cast<std::size_t>(last));
  return context.substr(from.begin, std::max(to.end, from.begin) - from.begin);
}

std::vector<ByteSpan> context_words(std::string_view context, const tok::Tokenizer& tokenizer) {
  std::vector<ByteSpan> words;
  for_each_word(context, split_rules(tokenizer),
                [&](ByteSpan span, const std::vector<WordChar>&) { words.push_back(span); });
  return words;
}

ContextPieces split_context(std::string_view context, const tok::Tokenizer& tokenizer) {
  ContextPieces out;
  PieceMapper mapper(context, tokenizer, out);
  for_each_word(context, split_rules(tokenizer),
                [&](ByteSpan span, const std::vector<WordChar>& chars) { mapper.add_word(span, chars); });
  return out;
}

}  // namespace bf::ft::qa
