#pragma once
// BERT's WordPiece tokenizer for a vocab.txt: BasicTokenizer, then greedy
// longest-match WordPiece on every word. Gives exactly the ids of Google's
// FullTokenizer (and of Hugging Face's BertTokenizer with the same options).
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/basic_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wordpiece_vocab.h"

namespace bf::tok {

struct WordPieceOptions {
  bool do_lower_case = true;
  std::optional<bool> strip_accents;  // unset: follows do_lower_case
  bool tokenize_chinese_chars = true;
  // Longer words become [UNK]. 100 as Hugging Face; Google's BERT uses 200.
  int max_input_chars_per_word = 100;
  // Keep literal "[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]" in text whole,
  // as Hugging Face does. Off by default: Google splits them like any text,
  // and text that happens to contain "[MASK]" should not become a real mask.
  bool never_split_special = false;
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  WordPieceTokenizer(WordPieceVocab vocab, WordPieceOptions options);

  std::string type() const override { return "wordpiece"; }
  Encoding encode(std::string_view text) const override;
  std::vector<std::string> encode_pieces(std::string_view text) const override;
  std::vector<PieceSpan> encode_with_offsets(std::string_view text) const override;
  std::string decode(const std::vector<std::int32_t>& ids) const override;
  std::int32_t token_to_id(std::string_view token) const override { return vocab_.id(token); }
  std::string id_to_token(std::int32_t id) const override;
  std::int32_t vocab_size() const override { return vocab_.size(); }
  SpecialIds special_ids() const override { return special_ids_; }
  std::string content_hash() const override { return content_hash_; }
  void save(const std::string& dir) const override;

  const WordPieceOptions& options() const { return options_; }
  std::string options_json() const;
  static WordPieceOptions options_from_json(const std::string& json, const std::string& where);

 private:
  void encode_text(std::string_view text, Encoding& out) const;
  void encode_keeping_specials(std::string_view text, Encoding& out) const;
  // The pieces of text, whose first byte is at `offset` of the caller's text.
  void encode_text_with_offsets(std::string_view text, std::size_t offset, std::vector<PieceSpan>& out) const;
  // Calls on_text(text, offset) for the text between literal special tokens
  // and on_special(id, offset, length) for each of them.
  template <class OnText, class OnSpecial>
  void split_specials(std::string_view text, OnText&& on_text, OnSpecial&& on_special) const;

  WordPieceVocab vocab_;
  WordPieceOptions options_;
  BasicTokenizer basic_;
  SpecialIds special_ids_;
  std::string content_hash_;
};

}  // namespace bf::tok
