#pragma once
// A SentencePiece model (unigram or BPE) behind the Tokenizer interface. The
// model runs in the bridge library (see spm_bridge_loader.h); the piece table
// is mirrored here so that piece lookups and word starts cost no bridge call.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/string_id_map.h"
#include "tokenizer/tokenizer.h"

struct bf_spm_model;

namespace bf::tok {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Throws bf::Error naming the file when it is missing or not a model.
  explicit SentencePieceTokenizer(const std::string& model_path, std::string training_json = "");

  std::string type() const override { return "sentencepiece"; }
  Encoding encode(std::string_view text) const override;
  std::vector<std::string> encode_pieces(std::string_view text) const override;
  std::vector<PieceSpan> encode_with_offsets(std::string_view text) const override;
  std::string decode(const std::vector<std::int32_t>& ids) const override;
  std::int32_t token_to_id(std::string_view token) const override { return piece_ids_.find(token); }
  std::string id_to_token(std::int32_t id) const override;
  std::int32_t vocab_size() const override { return static_cast<std::int32_t>(pieces_.size()); }
  SpecialIds special_ids() const override { return special_ids_; }
  std::string content_hash() const override { return content_hash_; }
  void save(const std::string& dir) const override;

 private:
  std::vector<std::int32_t> encode_ids(std::string_view text) const;

  std::string model_path_;
  std::shared_ptr<bf_spm_model> model_;
  std::string model_bytes_;
  std::string vocab_bytes_;  // spm.vocab, when it sat next to the model
  std::vector<std::string> pieces_;
  std::vector<std::uint8_t> starts_word_;
  StringIdMap piece_ids_;
  SpecialIds special_ids_;
  std::string content_hash_;
  std::string training_json_;
};

}  // namespace bf::tok
