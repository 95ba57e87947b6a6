#include "tokenizer/word_split.h"

#include <utf8proc.h>

#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece_tokenizer.h"

namespace bf::tok {
namespace {

// What the basic tokenizer makes of one character.
enum class CharKind { Removed, Space, Alone, Word };

bool decomposes_to_punctuation(char32_t cp) {
  utf8proc_int32_t parts[16];
  int boundclass = 0;
  const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), parts, 16, UTF8PROC_DECOMPOSE, &boundclass);
  for (utf8proc_ssize_t i = 0; i < n && i < 16; ++i)
    if (unicode::is_punctuation(static_cast<char32_t>(parts[i]))) return true;
  return false;
}

CharKind ascii_kind(unsigned char c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return CharKind::Space;
  if (c < 0x20 || c == 0x7F) return CharKind::Removed;
  return unicode::is_punctuation(c) ? CharKind::Alone : CharKind::Word;
}

CharKind unicode_kind(char32_t cp, const WordSplitOptions& options) {
  if (cp == 0xFFFD || unicode::is_control(cp)) return CharKind::Removed;
  if (unicode::is_whitespace(cp) || unicode::is_extra_split_space(cp)) return CharKind::Space;
  if (options.cjk_alone && unicode::is_cjk(cp)) return CharKind::Alone;
  if (unicode::is_punctuation(cp)) return CharKind::Alone;
  if (options.strip_accents && decomposes_to_punctuation(cp)) return CharKind::Alone;
  return CharKind::Word;
}

// Words grow character by character; `open` says whether one is growing.
class WordBuilder {
 public:
  explicit WordBuilder(std::vector<SplitWord>& out) : out_(out) {}
  void add(std::size_t byte, std::size_t length, std::int64_t character) {
    if (!open_) current_ = SplitWord{byte, byte, character, character};
    open_ = true;
    current_.end = byte + length;
    current_.char_end = character + 1;
  }
  void close() {
    if (open_) out_.push_back(current_);
    open_ = false;
  }

 private:
  std::vector<SplitWord>& out_;
  SplitWord current_;
  bool open_ = false;
};

}  // namespace

WordSplitOptions word_split_options(const Tokenizer& tokenizer) {
  WordSplitOptions rules;
  if (const auto* wordpiece = dynamic_cast<const WordPieceTokenizer*>(&tokenizer)) {
    const WordPieceOptions& options = wordpiece->options();
    rules.cjk_alone = options.tokenize_chinese_chars;
    rules.strip_accents = options.strip_accents.value_or(options.do_lower_case);
  }
  return rules;
}

std::vector<SplitWord> split_words(std::string_view text, const WordSplitOptions& options) {
  std::vector<SplitWord> words;
  WordBuilder word(words);
  const char* base = text.data();
  const char* end = base + text.size();
  std::int64_t character = 0;
  for (const char* p = base; p < end; ++character) {
    const auto byte = static_cast<unsigned char>(*p);
    char32_t cp = byte;
    int length = byte < 0x80 ? 1 : unicode::decode_utf8(p, end, &cp);
    CharKind kind = CharKind::Removed;  // bytes that are not UTF-8 are dropped
    if (byte < 0x80) {
      kind = ascii_kind(byte);
    } else if (length > 0) {
      kind = unicode_kind(cp, options);
    } else {
      length = 1;
    }
    const auto at = static_cast<std::size_t>(p - base);
    p += length;
    if (kind == CharKind::Removed) continue;
    if (kind != CharKind::Word) word.close();
    if (kind == CharKind::Space) continue;
    word.add(at, static_cast<std::size_t>(length), character);
    if (kind == CharKind::Alone) word.close();
  }
  word.close();
  return words;
}

}  // namespace bf::tok
