#include "tokenizer/basic_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
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
// With kSpans, spans (one per code point) follow the characters.
template <bool kSpans>
void python_lower(std::u32string& cps, std::vector<SourceSpan>& spans) {
  using namespace unicode;
  std::u32string out;
  out.reserve(cps.size() + 1);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    if (cp == 0x130) {
      out.push_back(U'i');
      out.push_back(0x307);
      if constexpr (kSpans) {
        const SourceSpan both = spans[out.size() - 2];
        spans.insert(spans.begin() + static_cast<std::ptrdiff_t>(out.size() - 1), both);
      }
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

// strip_accents carrying one source span per code point: NFD one character at
// a time, then canonical ordering as utf8proc_decompose does it to a string;
// a removed mark widens the span of the character before it. The characters
// are checked against strip_accents itself, so the words (and ids) are its;
// should they ever differ, every character gets the token's whole span.
void strip_accents(std::u32string& cps, std::vector<SourceSpan>& spans) {
  std::u32string expected = cps;
  strip_accents(expected);
  std::u32string nfd;
  std::vector<SourceSpan> nfd_spans;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    std::array<utf8proc_int32_t, 32> decomposed{};
    int boundclass = 0;
    auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cps[i]), decomposed.data(),
                                     static_cast<utf8proc_ssize_t>(decomposed.size()), options, &boundclass);
    if (n < 1 || n > static_cast<utf8proc_ssize_t>(decomposed.size())) {
      n = 1;
      decomposed[0] = static_cast<utf8proc_int32_t>(cps[i]);
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      nfd.push_back(static_cast<char32_t>(decomposed[static_cast<std::size_t>(k)]));
      nfd_spans.push_back(spans[i]);
    }
  }
  auto ccc = [](char32_t cp) { return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class; };
  for (std::size_t pos = 0; pos + 1 < nfd.size();) {
    const auto first = ccc(nfd[pos]);
    const auto second = ccc(nfd[pos + 1]);
    if (first > second && second > 0) {
      std::swap(nfd[pos], nfd[pos + 1]);
      std::swap(nfd_spans[pos], nfd_spans[pos + 1]);
      pos = pos > 0 ? pos - 1 : pos + 1;
    } else {
      ++pos;
    }
  }
  SourceSpan whole{spans.empty() ? 0 : spans.front().start, spans.empty() ? 0 : spans.back().end};
  cps.clear();
  spans.clear();
  for (std::size_t i = 0; i < nfd.size(); ++i) {
    if (!unicode::is_nonspacing_mark(nfd[i])) {
      cps.push_back(nfd[i]);
      spans.push_back(nfd_spans[i]);
    } else if (!spans.empty()) {
      spans.back().start = std::min(spans.back().start, nfd_spans[i].start);
      spans.back().end = std::max(spans.back().end, nfd_spans[i].end);
    }
  }
  if (cps != expected) {
    cps = expected;
    spans.assign(cps.size(), whole);
  }
}

// The offsets in the text of the current token's bytes (kSpans only).
std::vector<std::size_t>& token_offsets() {
  thread_local std::vector<std::size_t> offsets;
  return offsets;
}

}  // namespace

BasicTokenizer::BasicTokenizer(BasicTokenizerOptions options)
    : options_(options), strip_accents_(options.strip_accents.value_or(options.lower_case)) {}

template <bool kSpans>
void BasicTokenizer::split_ascii_token(std::string_view token, const std::size_t* at, WordList& words,
                                       std::vector<SourceSpan>* spans) const {
  std::string& out = words.bytes();
  for (std::size_t i = 0; i < token.size(); ++i) {
    const char c = token[i];
    if (kAsciiClasses[static_cast<unsigned char>(c)] == AsciiClass::kPunctuation) {
      words.close_word();
      out.push_back(c);
      if constexpr (kSpans) spans->push_back({at[i], at[i] + 1});
      words.close_word();
    } else {
      out.push_back(options_.lower_case ? ascii_lower(c) : c);
      if constexpr (kSpans) spans->push_back({at[i], at[i] + 1});
    }
  }
  words.close_word();
}

template <bool kSpans>
void BasicTokenizer::split_unicode_token(std::string_view token, const std::size_t* at, WordList& words,
                                         std::vector<SourceSpan>* spans) const {
  std::u32string cps;
  std::vector<SourceSpan> cp_spans;  // kSpans: one per code point
  const char* p = token.data();
  const char* end = p + token.size();
  while (p < end) {
    char32_t cp;
    const int length = unicode::decode_utf8(p, end, &cp);  // the token holds only well-formed characters
    if constexpr (kSpans) {
      const std::size_t from = at[p - token.data()];
      cp_spans.push_back({from, from + static_cast<std::size_t>(length)});
    }
    p += length;
    cps.push_back(cp);
  }
  if (options_.lower_case) python_lower<kSpans>(cps, cp_spans);
  if (strip_accents_) {
    if constexpr (kSpans) {
      strip_accents(cps, cp_spans);
    } else {
      strip_accents(cps);
    }
  }
  std::string& out = words.bytes();
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    const bool punctuation = unicode::is_punctuation(cp);
    if (punctuation) words.close_word();
    unicode::append_utf8(out, cp);
    if constexpr (kSpans) spans->resize(out.size(), cp_spans[i]);
    if (punctuation) words.close_word();
  }
  words.close_word();
}

void BasicTokenizer::tokenize(std::string_view text, WordList& words) const {
  tokenize_impl<false>(text, words, nullptr);
}

void BasicTokenizer::tokenize(std::string_view text, WordList& words, std::vector<SourceSpan>& spans) const {
  spans.resize(words.bytes().size());
  tokenize_impl<true>(text, words, &spans);
}

template <bool kSpans>
void BasicTokenizer::tokenize_impl(std::string_view text, WordList& words, std::vector<SourceSpan>* spans) const {
  // The current whitespace token after _clean_text, in its original case.
  thread_local std::string token;
  token.clear();
  std::size_t* at = nullptr;
  if constexpr (kSpans) token_offsets().clear();
  bool token_is_ascii = true;
  auto flush = [&] {
    if (token.empty()) return;
    if constexpr (kSpans) at = token_offsets().data();
    if (token_is_ascii) {
      split_ascii_token<kSpans>(token, at, words, spans);
    } else {
      split_unicode_token<kSpans>(token, at, words, spans);
    }
    token.clear();
    if constexpr (kSpans) token_offsets().clear();
    token_is_ascii = true;
  };
  // Appends bytes of text at p to the token.
  auto keep = [&](const char* p, std::size_t length) {
    token.append(p, length);
    if constexpr (kSpans) {
      for (std::size_t i = 0; i < length; ++i) token_offsets().push_back(static_cast<std::size_t>(p - text.data()) + i);
    }
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
        if constexpr (kSpans) {
          keep(p, 1);
        } else {
          token.push_back(static_cast<char>(byte));
        }
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
      keep(bytes.data(), bytes.size());
      token_is_ascii = false;
      flush();
    } else {
      keep(bytes.data(), bytes.size());
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
