#include "tokenizer/basic_tokenizer.h"

#include <utf8proc.h>

#include <array>

#include "tokenizer/unicode.h"

namespace bf::tok {
namespace {

// What _clean_text and the splitters make of each ASCII byte.
enum class AsciiClass : std::uint8_t { kWordChar, kSpace, kRemoved, kPunctuation };

constexpr std::array<AsciiClass, 128> make_ascii_classes() {
  std::array<AsciiClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    AsciiClass cls = AsciiClass::kWordChar;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      cls = AsciiClass::kSpace;
    } else if (c < 0x20 || c == 0x7F) {
      cls = AsciiClass::kRemoved;  // NUL and the other Cc characters
    } else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
      cls = AsciiClass::kPunctuation;
    }
    classes[c] = cls;
  }
  return classes;
}
constexpr std::array<AsciiClass, 128> kAsciiClasses = make_ascii_classes();

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// Python's str.lower() on one whitespace token: the full lower-case mapping
// (only U+0130 maps to two characters) and the Final_Sigma context rule.
void python_lower(std::u32string& cps) {
  using namespace unicode;
  std::u32string out;
  out.reserve(cps.size() + 1);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    if (cp == 0x130) {
      out.push_back(U'i');
      out.push_back(0x307);
    } else if (cp == 0x3A3) {
      std::size_t j = i;
      while (j > 0 && is_case_ignorable(cps[j - 1])) --j;
      bool final_sigma = j > 0 && is_cased(cps[j - 1]);
      if (final_sigma) {
        std::size_t k = i + 1;
        while (k < cps.size() && is_case_ignorable(cps[k])) ++k;
        final_sigma = k == cps.size() || !is_cased(cps[k]);
      }
      out.push_back(final_sigma ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(simple_lowercase(cp));
    }
  }
  cps.swap(out);
}

// unicodedata.normalize("NFD", ...) followed by dropping category Mn.
void strip_accents(std::u32string& cps) {
  std::string utf8;
  for (char32_t cp : cps) unicode::append_utf8(utf8, cp);
  std::vector<utf8proc_int32_t> decomposed(utf8.size() * 2 + 8);
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  auto decompose = [&] {
    return utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                              static_cast<utf8proc_ssize_t>(utf8.size()), decomposed.data(),
                              static_cast<utf8proc_ssize_t>(decomposed.size()), options);
  };
  auto n = decompose();
  if (n > static_cast<utf8proc_ssize_t>(decomposed.size())) {
    decomposed.resize(static_cast<std::size_t>(n));
    n = decompose();
  }
  cps.clear();
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    const auto cp = static_cast<char32_t>(decomposed[static_cast<std::size_t>(i)]);
    if (!unicode::is_nonspacing_mark(cp)) cps.push_back(cp);
  }
}

}  // namespace

BasicTokenizer::BasicTokenizer(BasicTokenizerOptions options)
    : options_(options), strip_accents_(options.strip_accents.value_or(options.lower_case)) {}

void BasicTokenizer::split_ascii_token(std::string_view token, WordList& words) const {
  std::string& out = words.bytes();
  for (char c : token) {
    if (kAsciiClasses[static_cast<unsigned char>(c)] == AsciiClass::kPunctuation) {
      words.close_word();
      out.push_back(c);
      words.close_word();
    } else {
      out.push_back(options_.lower_case ? ascii_lower(c) : c);
    }
  }
  words.close_word();
}

void BasicTokenizer::split_unicode_token(std::string_view token, WordList& words) const {
  std::u32string cps;
  const char* p = token.data();
  const char* end = p + token.size();
  while (p < end) {
    char32_t cp;
    p += unicode::decode_utf8(p, end, &cp);  // the token holds only well-formed characters
    cps.push_back(cp);
  }
  if (options_.lower_case) python_lower(cps);
  if (strip_accents_) strip_accents(cps);
  std::string& out = words.bytes();
  for (char32_t cp : cps) {
    if (unicode::is_punctuation(cp)) {
      words.close_word();
      unicode::append_utf8(out, cp);
      words.close_word();
    } else {
      unicode::append_utf8(out, cp);
    }
  }
  words.close_word();
}

void BasicTokenizer::tokenize(std::string_view text, WordList& words) const {
  // The current whitespace token after _clean_text, in its original case.
  thread_local std::string token;
  token.clear();
  bool token_is_ascii = true;
  auto flush = [&] {
    if (token.empty()) return;
    if (token_is_ascii) {
      split_ascii_token(token, words);
    } else {
      split_unicode_token(token, words);
    }
    token.clear();
    token_is_ascii = true;
  };

  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const auto byte = static_cast<unsigned char>(*p);
    if (byte < 0x80) {
      const AsciiClass cls = kAsciiClasses[byte];
      if (cls == AsciiClass::kSpace) {
        flush();
      } else if (cls != AsciiClass::kRemoved) {
        token.push_back(static_cast<char>(byte));
      }
      ++p;
      continue;
    }
    char32_t cp;
    const int length = unicode::decode_utf8(p, end, &cp);
    if (length == 0) {  // not UTF-8: dropped byte by byte, like decode("utf-8", "ignore")
      ++p;
      continue;
    }
    const std::string_view bytes(p, static_cast<std::size_t>(length));
    p += length;
    if (cp == 0xFFFD || unicode::is_control(cp)) continue;
    if (unicode::is_whitespace(cp) || unicode::is_extra_split_space(cp)) {
      flush();
    } else if (options_.tokenize_chinese_chars && unicode::is_cjk(cp)) {
      flush();
      token.append(bytes);
      token_is_ascii = false;
      flush();
    } else {
      token.append(bytes);
      token_is_ascii = false;
    }
  }
  flush();
}

std::vector<std::string> BasicTokenizer::tokenize(std::string_view text) const {
  WordList words;
  tokenize(text, words);
  std::vector<std::string> out;
  out.reserve(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) out.emplace_back(words[i]);
  return out;
}

}  // namespace bf::tok
