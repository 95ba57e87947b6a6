#pragma once
// A BERT vocab.txt: one token per line, the line number is the id. Tokens
// starting with "##" continue a word; they are kept in a second table without
// the prefix so that WordPiece never has to build "##" + substring.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/string_id_map.h"

namespace bf::tok {

class WordPieceVocab {
 public:
  // Throws bf::Error naming the file for a missing or empty file, a line that
  // is not UTF-8, or a vocabulary without [UNK].
  static WordPieceVocab from_file(const std::string& path);
  static WordPieceVocab from_text(std::string text, const std::string& name);
  static WordPieceVocab from_tokens(const std::vector<std::string>& tokens);

  std::int32_t size() const { return static_cast<std::int32_t>(tokens_.size()); }
  std::int32_t id(std::string_view token) const;                 // -1 when absent
  std::int32_t word_start_id(std::string_view piece) const { return word_start_.find(piece); }
  std::int32_t continuation_id(std::string_view rest) const { return continuation_.find(rest); }
  const std::string& token(std::int32_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  // Longest token in bytes (without "##"): no match can be longer.
  std::size_t max_piece_bytes() const { return max_piece_bytes_; }
  // The file exactly as read (saved verbatim so the content hash survives).
  const std::string& text() const { return text_; }

 private:
  void add(std::string_view token);

  std::string text_;
  std::vector<std::string> tokens_;
  StringIdMap word_start_;
  StringIdMap continuation_;
  std::size_t max_piece_bytes_ = 0;
};

}  // namespace bf::tok
