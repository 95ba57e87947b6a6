#pragma once
// The one tokenizer interface that the data pipeline, fine-tuning and
// prediction use. A tokenizer is chosen by a tokenizer directory holding our
// small manifest (tokenizer_config.json: type, options, files) next to
// vocab.txt (WordPiece) or spm.model (SentencePiece).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bf::tok {

struct Encoding {
  std::vector<std::int32_t> ids;
  // 1 where a piece starts a new word (no "##" prefix for WordPiece, a "▁"
  // prefix for SentencePiece, every CJK character): whole-word masking uses it.
  std::vector<std::uint8_t> word_starts;
};

struct PairEncoding {
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;
  std::vector<std::int32_t> attention_mask;
};

// One piece of a text and where it came from: [start, end) are byte offsets
// into the UTF-8 text given to encode_with_offsets.
struct PieceSpan {
  std::int32_t id = 0;
  std::string piece;
  std::size_t start = 0;
  std::size_t end = 0;
};

// A span in code points (Python str indices), what the HTTP API returns.
struct CharSpan {
  std::size_t start = 0;
  std::size_t end = 0;
};

struct SpecialIds {
  std::int32_t pad = 0;
  std::int32_t unk = 100;
  std::int32_t cls = 101;
  std::int32_t sep = 102;
  std::int32_t mask = 103;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::string type() const = 0;  // "wordpiece" or "sentencepiece"
  virtual Encoding encode(std::string_view text) const = 0;
  virtual std::vector<std::string> encode_pieces(std::string_view text) const = 0;
  // The ids of encode(text), each with its piece and the span of text it
  // came from. Spans are in order and never overlap; text the tokenizer drops
  // (spaces, control characters) lies in no span. Slower than encode: only
  // for callers that show pieces against the text. The default (for test
  // tokenizers) throws bf::Error.
  virtual std::vector<PieceSpan> encode_with_offsets(std::string_view text) const;
  virtual std::string decode(const std::vector<std::int32_t>& ids) const = 0;
  virtual std::int32_t token_to_id(std::string_view token) const = 0;  // -1 when absent
  virtual std::string id_to_token(std::int32_t id) const = 0;
  virtual std::int32_t vocab_size() const = 0;
  virtual SpecialIds special_ids() const = 0;
  // Hash of everything that decides the ids (vocab/model file and options).
  virtual std::string content_hash() const = 0;
  // Writes the manifest and the vocabulary/model file into dir.
  virtual void save(const std::string& dir) const = 0;

  // [CLS] a [SEP] (b [SEP]) with Google's longest-first truncation to max_len;
  // padded with [PAD] up to max_len when pad_to_max_length is set.
  PairEncoding encode_pair(std::string_view a, std::optional<std::string_view> b, int max_len,
                           bool pad_to_max_length = false) const;
  // Encodes on `threads` threads (0 = all cores); order is preserved.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, int threads = 0) const;
};

// The code points of text before byte_offset (which must lie on a character
// boundary of valid UTF-8): the Python str index of that byte.
std::size_t codepoint_offset(std::string_view text, std::size_t byte_offset);
// Every span's byte offsets as code-point offsets, in one pass over text when
// the spans are in order (as encode_with_offsets gives them).
std::vector<CharSpan> codepoint_spans(std::string_view text, const std::vector<PieceSpan>& spans);

// Loads from a tokenizer directory (or a model directory that carries one in
// a "tokenizer" subdirectory). A directory with only a vocab.txt, or a bare
// vocab.txt file, is taken as an uncased WordPiece vocabulary.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir);

// A WordPiece tokenizer straight from a BERT vocab.txt with the default
// options (Google's behaviour, max 100 characters per word), lower-cased
// unless lower_case is false.
std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::string& vocab_txt, bool lower_case = true);

// Throws a bf::Error that says what differs when a tokenizer does not belong
// to a model, which recorded the tokenizer's hash and vocab size when saved.
void check_tokenizer_matches(const Tokenizer& tokenizer, const std::string& expected_hash,
                             std::int32_t expected_vocab_size, const std::string& model_dir);

}  // namespace bf::tok
