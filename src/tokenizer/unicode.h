#pragma once
// The character classes of Google's BERT tokenizer (tokenization.py), on top
// of utf8proc's Unicode database. Every predicate answers exactly the question
// the Python reference asks, so the basic tokenizer can stay a plain loop.
#include <cstddef>
#include <cstdint>
#include <string>

namespace bf::tok::unicode {

// Decodes one UTF-8 character at p (p < end). Returns its length in bytes, or
// 0 when the bytes there are not well-formed UTF-8 (overlong forms,
// surrogates, truncated sequences, stray continuation bytes).
int decode_utf8(const char* p, const char* end, char32_t* cp);
void append_utf8(std::string& out, char32_t cp);
inline bool is_continuation_byte(unsigned char c) { return (c & 0xC0) == 0x80; }
bool is_valid_utf8(const char* p, std::size_t n);

// Google's _is_whitespace: space, \t, \n, \r and category Zs.
bool is_whitespace(char32_t cp);
// Google's _is_control: categories Cc and Cf, except \t, \n, \r.
bool is_control(char32_t cp);
// Google's _is_punctuation: the ASCII non-alphanumerics and categories P*.
bool is_punctuation(char32_t cp);
// Google's _is_chinese_char: the CJK Unified Ideographs blocks (not Hangul,
// not kana, not CJK punctuation).
bool is_cjk(char32_t cp);
// Characters Python's str.split() also splits on that survive _clean_text
// (U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR).
bool is_extra_split_space(char32_t cp);
bool is_nonspacing_mark(char32_t cp);  // category Mn
// Properties Python's str.lower() consults for the Greek final sigma.
bool is_cased(char32_t cp);
bool is_case_ignorable(char32_t cp);
char32_t simple_lowercase(char32_t cp);

}  // namespace bf::tok::unicode
