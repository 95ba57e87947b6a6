#pragma once
// The built-in sentence splitter for "paragraph" inputs (one paragraph per
// line). Rule based, like the splitter that produced shared/data/en_pretrain:
// good enough for NSP, not a linguist. English: . ! ? followed by closing
// quotes/brackets, whitespace and a capital, digit or opening quote, unless
// the word before the period is a known abbreviation or a single initial.
// Chinese/Japanese: 。！？ (and the closing quotes after them) always end one.
#include <string_view>
#include <vector>

namespace bf::data {

std::vector<std::string_view> split_sentences(std::string_view paragraph);

}  // namespace bf::data
