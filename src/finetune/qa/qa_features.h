#pragma once
// Examples -> model inputs, as Google's run_squad.py: [CLS] question [SEP]
// context window [SEP], the context cut into overlapping windows so that a
// long context is seen whole. Plain vectors (no torch): the caller pads and
// stacks them into tensors.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "finetune/qa/context_pieces.h"
#include "finetune/qa/squad_reader.h"
#include "tokenizer/tokenizer.h"

namespace bf::ft::qa {

struct QaFeatureOptions {
  int max_seq_length = 384;
  int doc_stride = 128;      // how far each window moves on (at most)
  int max_query_length = 64;  // longer questions keep their first pieces
};

struct QaFeature {
  std::size_t example_index = 0;
  int window_index = 0;    // among its example's windows
  int context_start = 0;   // position of the window's first context piece
  int context_offset = 0;  // index of that piece in the example's ContextPieces
  std::vector<std::int32_t> input_ids, token_type_ids, attention_mask;  // unpadded
  // Per position: the piece's bytes in the example's context (none for the
  // question and the special tokens), and whether this window is the one
  // where that piece has the most context on both sides.
  std::vector<std::optional<ByteSpan>> offsets;
  std::vector<std::uint8_t> is_max_context;
  // Training targets: the answer's first and last piece, or 0 ([CLS]) when
  // the window does not hold the whole answer or there is none.
  int start_position = 0;
  int end_position = 0;

  int size() const { return static_cast<int>(input_ids.size()); }
};

struct QaFeatureStats {
  int examples = 0;
  int windows = 0;
  int truncated_questions = 0;   // longer than max_query_length
  int unmappable_answers = 0;    // training: the answer covers no piece (only spaces)
  int windows_without_answer = 0;  // training: answerable example, answer not wholly in the window
  nlohmann::json to_json() const;
};

struct QaFeatureSet {
  std::vector<QaFeature> features;  // grouped by example, in example order
  QaFeatureStats stats;
};

// Throws a bf::Error naming the option when the options cannot make a window.
void check_options(const QaFeatureOptions& options);

// training: fills start/end positions from each example's first answer.
QaFeatureSet build_features(const std::vector<QaExample>& examples, const tok::Tokenizer& tokenizer,
                            const QaFeatureOptions& options, bool training);

// The windows of one example whose context is already split (pieces of
// example.context). Appends to out; stats may be null.
void example_features(const QaExample& example, std::size_t example_index, const ContextPieces& pieces,
                      const tok::Tokenizer& tokenizer, const QaFeatureOptions& options, bool training,
                      std::vector<QaFeature>& out, QaFeatureStats* stats = nullptr);

// Google's rule for a piece seen in several windows: the window where
// min(left context, right context) + 0.01 * window length is largest (the
// first of equals) owns it. windows are (first piece, piece count).
bool is_max_context(const std::vector<std::pair<int, int>>& windows, int window, int piece);

}  // namespace bf::ft::qa
