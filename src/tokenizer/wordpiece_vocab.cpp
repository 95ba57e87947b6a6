#include "tokenizer/wordpiece_vocab.h"

#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::tok {
namespace {

constexpr std::string_view kContinuation = "##";

// Google's load_vocab strips each line; the vocab files only ever carry
// ASCII whitespace around tokens.
std::string_view strip(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

void WordPieceVocab::add(std::string_view token) {
  const auto id = static_cast<std::int32_t>(tokens_.size());
  tokens_.emplace_back(token);
  // A repeated token keeps its last id, as the Python dict in load_vocab does.
  if (token.substr(0, kContinuation.size()) == kContinuation) {
    const std::string_view rest = token.substr(kContinuation.size());
    continuation_.insert_or_assign(rest, id);
    max_piece_bytes_ = std::max(max_piece_bytes_, rest.size());
  }
  word_start_.insert_or_assign(token, id);
  max_piece_bytes_ = std::max(max_piece_bytes_, token.size());
}

std::int32_t WordPieceVocab::id(std::string_view token) const { return word_start_.find(token); }

WordPieceVocab WordPieceVocab::from_text(std::string text, const std::string& name) {
  WordPieceVocab vocab;
  std::string_view rest(text);
  int line_number = 0;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    ++line_number;
    if (!unicode::is_valid_utf8(line.data(), line.size()))
      fail(name + ":" + std::to_string(line_number) + ": vocabulary line is not valid UTF-8");
    vocab.add(strip(line));
  }
  if (vocab.tokens_.empty()) fail(name + ": vocabulary file is empty");
  if (vocab.id("[UNK]") < 0) fail(name + ": not a BERT vocabulary: it has no [UNK] token");
  vocab.text_ = std::move(text);
  return vocab;
}

WordPieceVocab WordPieceVocab::from_file(const std::string& path) {
  if (!path_exists(path)) fail(path + ": vocabulary file not found");
  return from_text(read_file(path), path);
}

WordPieceVocab WordPieceVocab::from_tokens(const std::vector<std::string>& tokens) {
  std::string text;
  for (const auto& token : tokens) text += token + "\n";
  return from_text(std::move(text), "<vocabulary>");
}

}  // namespace bf::tok
