#include "finetune/qa/qa_features.h"

#include <algorithm>
#include <string>
#include <utility>

#include "util/error.h"

namespace bf::ft::qa {
namespace {

using Window = std::pair<int, int>;  // first piece, piece count

// run_squad's sliding windows: each starts doc_stride pieces after the one
// before (or right after it, when windows are shorter than the stride), the
// last one ends with the context. An empty context still gets one (empty)
// window, so that every example has a prediction.
std::vector<Window> context_windows(int pieces, int max_pieces, int stride) {
  std::vector<Window> windows;
  for (int start = 0;;) {
    const int length = std::min(pieces - start, max_pieces);
    windows.emplace_back(start, length);
    if (start + length >= pieces) break;
    start += std::min(length, stride);
  }
  return windows;
}

struct AnswerPieces {
  bool has = false;
  int first = 0, last = 0;
};

AnswerPieces answer_pieces(const QaExample& example, const ContextPieces& pieces, QaFeatureStats* stats) {
  AnswerPieces out;
  if (example.is_impossible || example.answers.empty()) return out;
  const QaAnswer& answer = example.answers.front();
  const auto covered = pieces.covering(ByteSpan{answer.start, answer.start + answer.text.size()});
  if (!covered) {
    if (stats != nullptr) ++stats->unmappable_answers;
    return out;
  }
  out.has = true;
  out.first = covered->first;
  out.last = covered->second;
  return out;
}

}  // namespace

nlohmann::json QaFeatureStats::to_json() const {
  return {{"examples", examples},
          {"windows", windows},
          {"truncated_questions", truncated_questions},
          {"unmappable_answers", unmappable_answers},
          {"windows_without_answer", windows_without_answer}};
}

void check_options(const QaFeatureOptions& options) {
  if (options.max_query_length < 1)
    fail("max_query_length must be >= 1, got " + std::to_string(options.max_query_length));
  if (options.doc_stride < 1) fail("doc_stride must be >= 1, got " + std::to_string(options.doc_stride));
  // [CLS] question [SEP] ... [SEP] must leave at least one context piece.
  if (options.max_seq_length < options.max_query_length + 4)
    fail("max_seq_length " + std::to_string(options.max_seq_length) + " leaves no room for the context after " +
         "a question of max_query_length " + std::to_string(options.max_query_length) + " pieces and 3 special " +
         "tokens (needs at least " + std::to_string(options.max_query_length + 4) + ")");
}

bool is_max_context(const std::vector<std::pair<int, int>>& windows, int window, int piece) {
  int best = -1;
  double best_score = 0.0;
  for (int w = 0; w < static_cast<int>(windows.size()); ++w) {
    const auto [start, length] = windows[static_cast<std::size_t>(w)];
    const int end = start + length - 1;
    if (piece < start || piece > end) continue;
    const double score = std::min(piece - start, end - piece) + 0.01 * length;
    if (best < 0 || score > best_score) {
      best = w;
      best_score = score;
    }
  }
  return best == window;
}

void example_features(const QaExample& example, std::size_t example_index, const ContextPieces& pieces,
                      const tok::Tokenizer& tokenizer, const QaFeatureOptions& options, bool training,
                      std::vector<QaFeature>& out, QaFeatureStats* stats) {
  const tok::SpecialIds special = tokenizer.special_ids();
  if (special.cls < 0 || special.sep < 0) fail("question answering needs a tokenizer with [CLS] and [SEP] tokens");
  std::vector<std::int32_t> query = tokenizer.encode(example.question).ids;
  if (static_cast<int>(query.size()) > options.max_query_length) {
    query.resize(static_cast<std::size_t>(options.max_query_length));
    if (stats != nullptr) ++stats->truncated_questions;
  }
  const int query_length = static_cast<int>(query.size());
  const int max_pieces = options.max_seq_length - query_length - 3;
  const std::vector<Window> windows = context_windows(static_cast<int>(pieces.size()), max_pieces, options.doc_stride);
  const AnswerPieces answer = training ? answer_pieces(example, pieces, stats) : AnswerPieces{};
  const bool answerable = training && !example.is_impossible && !example.answers.empty();

  for (int w = 0; w < static_cast<int>(windows.size()); ++w) {
    const auto [first, count] = windows[static_cast<std::size_t>(w)];
    QaFeature feature;
    feature.example_index = example_index;
    feature.window_index = w;
    feature.context_start = query_length + 2;
    feature.context_offset = first;
    const std::size_t length = static_cast<std::size_t>(query_length + count + 3);
    feature.input_ids.reserve(length);
    feature.input_ids.push_back(special.cls);
    feature.input_ids.insert(feature.input_ids.end(), query.begin(), query.end());
    feature.input_ids.push_back(special.sep);
    feature.input_ids.insert(feature.input_ids.end(), pieces.ids.begin() + first, pieces.ids.begin() + first + count);
    feature.input_ids.push_back(special.sep);
    feature.token_type_ids.assign(length, 0);
    std::fill(feature.token_type_ids.begin() + feature.context_start, feature.token_type_ids.end(), 1);
    feature.attention_mask.assign(length, 1);
    feature.offsets.assign(length, std::nullopt);
    feature.is_max_context.assign(length, 0);
    for (int i = 0; i < count; ++i) {
      const auto position = static_cast<std::size_t>(feature.context_start + i);
      feature.offsets[position] = pieces.spans[static_cast<std::size_t>(first + i)];
      feature.is_max_context[position] = is_max_context(windows, w, first + i);
    }
    if (answer.has && answer.first >= first && answer.last < first + count) {
      feature.start_position = feature.context_start + answer.first - first;
      feature.end_position = feature.context_start + answer.last - first;
    } else if (answerable && stats != nullptr) {
      ++stats->windows_without_answer;
    }
    out.push_back(std::move(feature));
  }
  if (stats != nullptr) {
    ++stats->examples;
    stats->windows += static_cast<int>(windows.size());
  }
}

QaFeatureSet build_features(const std::vector<QaExample>& examples, const tok::Tokenizer& tokenizer,
                            const QaFeatureOptions& options, bool training) {
  check_options(options);
  QaFeatureSet set;
  // The questions of one paragraph follow each other and share its context:
  // split it once.
  const std::string* split_for = nullptr;
  ContextPieces pieces;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (split_for == nullptr || *split_for != examples[i].context) {
      pieces = split_context(examples[i].context, tokenizer);
      split_for = &examples[i].context;
    }
    example_features(examples[i], i, pieces, tokenizer, options, training, set.features, &set.stats);
  }
  return set;
}

}  // namespace bf::ft::qa
