#pragma once
// Checks and repairs one line of raw input. Corpora scraped from anywhere
// carry broken encodings and stray binary; the pipeline counts and repairs
// (or skips) such lines instead of feeding them to the tokenizer or crashing.
#include <cstddef>
#include <string>
#include <string_view>

namespace bf::data {

struct LineCheck {
  bool invalid_utf8 = false;
  bool has_nul = false;
  bool clean() const { return !invalid_utf8 && !has_nul; }
};

LineCheck check_line(std::string_view line);

// Each invalid UTF-8 sequence becomes U+FFFD, each NUL byte a space.
std::string repair_line(std::string_view line);

// The longest prefix of at most max_bytes that does not cut a UTF-8 character.
std::size_t utf8_prefix_length(std::string_view text, std::size_t max_bytes);

// Length of the valid UTF-8 sequence starting at text[0], or 0 when invalid.
std::size_t utf8_sequence_length(std::string_view text);

}  // namespace bf::data
