#include "finetune/qa/qa_decode.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string_view>
#include <unordered_set>

#include "util/error.h"

namespace bf::ft::qa {
namespace {

// A candidate before its text is cut: a span of one window, or "no answer".
struct Span {
  std::size_t feature = 0;
  int start = 0, end = 0;
  float start_logit = 0.0f, end_logit = 0.0f;
  bool null = false;
  double score() const { return static_cast<double>(start_logit) + static_cast<double>(end_logit); }
};

// The n largest logits' positions, ties in position order (as Python's
// stable sort in run_squad.py).
std::vector<int> best_indexes(const std::vector<float>& logits, int n) {
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  const auto keep = std::min(order.size(), static_cast<std::size_t>(n));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(), [&](int a, int b) {
    const float la = logits[static_cast<std::size_t>(a)], lb = logits[static_cast<std::size_t>(b)];
    return la > lb || (la == lb && a < b);
  });
  order.resize(keep);
  return order;
}

void check_inputs(const std::vector<QaExample>& examples, const std::vector<QaFeature>& features,
                  const std::vector<std::vector<float>>& start_logits,
                  const std::vector<std::vector<float>>& end_logits, const QaDecodeOptions& options) {
  if (options.n_best_size < 1) fail("n_best_size must be >= 1, got " + std::to_string(options.n_best_size));
  if (options.max_answer_length < 1)
    fail("max_answer_length must be >= 1, got " + std::to_string(options.max_answer_length));
  if (start_logits.size() != features.size() || end_logits.size() != features.size())
    fail("decode: " + std::to_string(features.size()) + " windows but " + std::to_string(start_logits.size()) +
         " start and " + std::to_string(end_logits.size()) + " end logit rows");
  for (std::size_t f = 0; f < features.size(); ++f) {
    const QaFeature& feature = features[f];
    if (feature.example_index >= examples.size())
      fail("decode: window " + std::to_string(f) + " belongs to example " + std::to_string(feature.example_index) +
           " of " + std::to_string(examples.size()));
    const auto positions = static_cast<std::size_t>(feature.size());
    if (start_logits[f].size() != positions || end_logits[f].size() != positions)
      fail("decode: window " + std::to_string(f) + " (question " + examples[feature.example_index].id + ") has " +
           std::to_string(positions) + " positions but " + std::to_string(start_logits[f].size()) + " start and " +
           std::to_string(end_logits[f].size()) + " end logits");
  }
}

class ExampleDecoder {
 public:
  ExampleDecoder(const QaExample& example, const std::vector<QaFeature>& features,
                 const std::vector<std::vector<float>>& start_logits,
                 const std::vector<std::vector<float>>& end_logits, const QaDecodeOptions& options)
      : example_(example), features_(features), starts_(start_logits), ends_(end_logits), options_(options) {}

  QaPrediction decode(const std::vector<std::size_t>& windows) {
    std::vector<Span> spans;
    for (std::size_t f : windows) add_window_spans(f, spans);
    if (options_.version_2_with_negative && has_null_) spans.push_back(null_);
    // Equal scores keep the order they were found in, as Python's sorted().
    std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.score() > b.score(); });
    QaPrediction prediction;
    prediction.id = example_.id;
    prediction.nbest = nbest(spans);
    choose(prediction);
    return prediction;
  }

 private:
  // Every pair of a best start and a best end that makes a legal span: both
  // in this window's context, start before end, not too long, and the start
  // where this window has the most context (its other windows judge it
  // otherwise).
  void add_window_spans(std::size_t f, std::vector<Span>& spans) {
    const QaFeature& feature = features_[f];
    const std::vector<float>& starts = starts_[f];
    const std::vector<float>& ends = ends_[f];
    if (starts.empty()) return;
    const double null_score = static_cast<double>(starts[0]) + static_cast<double>(ends[0]);
    if (!has_null_ || null_score < null_.score()) {
      has_null_ = true;
      null_ = Span{f, 0, 0, starts[0], ends[0], true};
    }
    const std::vector<int> best_starts = best_indexes(starts, options_.n_best_size);
    const std::vector<int> best_ends = best_indexes(ends, options_.n_best_size);
    for (int start : best_starts) {
      const auto s = static_cast<std::size_t>(start);
      if (!feature.offsets[s] || !feature.is_max_context[s]) continue;
      for (int end : best_ends) {
        const auto e = static_cast<std::size_t>(end);
        if (!feature.offsets[e] || end < start || end - start + 1 > options_.max_answer_length) continue;
        spans.push_back(Span{f, start, end, starts[s], ends[e], false});
      }
    }
  }

  // The span's bytes in the context: first byte of its start piece to the
  // last of its end piece.
  ByteSpan bytes_of(const Span& span) const {
    if (span.null) return ByteSpan{};
    const QaFeature& feature = features_[span.feature];
    const ByteSpan first = *feature.offsets[static_cast<std::size_t>(span.start)];
    const ByteSpan last = *feature.offsets[static_cast<std::size_t>(span.end)];
    return ByteSpan{first.begin, std::max(last.end, first.begin)};
  }

  // The best candidates with distinct texts; "no answer" always among them in v2.
  std::vector<QaCandidate> nbest(const std::vector<Span>& spans) const {
    std::vector<QaCandidate> out;
    std::unordered_set<std::string> seen;
    for (const Span& span : spans) {
      if (static_cast<int>(out.size()) >= options_.n_best_size) break;
      const ByteSpan bytes = bytes_of(span);
      std::string text = example_.context.substr(bytes.begin, bytes.end - bytes.begin);
      if (!seen.insert(text).second) continue;
      out.push_back(QaCandidate{std::move(text), span.start_logit, span.end_logit, 0.0, bytes.begin, bytes.end});
    }
    if (options_.version_2_with_negative && has_null_ && seen.count("") == 0)
      out.push_back(QaCandidate{"", null_.start_logit, null_.end_logit, 0.0});
    softmax(out);
    return out;
  }

  static void softmax(std::vector<QaCandidate>& candidates) {
    double max_score = -std::numeric_limits<double>::infinity();
    for (const QaCandidate& c : candidates) max_score = std::max(max_score, double(c.start_logit) + c.end_logit);
    double total = 0.0;
    for (QaCandidate& c : candidates) total += (c.probability = std::exp(double(c.start_logit) + c.end_logit - max_score));
    for (QaCandidate& c : candidates) c.probability /= total;
  }

  void choose(QaPrediction& prediction) const {
    const auto best = std::find_if(prediction.nbest.begin(), prediction.nbest.end(),
                                   [](const QaCandidate& c) { return !c.text.empty(); });
    prediction.has_span = best != prediction.nbest.end();
    if (prediction.has_span) {
      prediction.best_span_score = static_cast<double>(best->start_logit) + static_cast<double>(best->end_logit);
      prediction.text = best->text;
      prediction.begin = best->begin;
      prediction.end = best->end;
    }
    if (!options_.version_2_with_negative) return;
    prediction.null_score = has_null_ ? null_.score() : 0.0;
    prediction.null_score_diff = prediction.has_span ? prediction.null_score - prediction.best_span_score
                                                     : std::numeric_limits<double>::max();
    if (prediction.null_score_diff > options_.null_score_diff_threshold) {
      prediction.text.clear();
      prediction.begin = prediction.end = 0;
    }
  }

  const QaExample& example_;
  const std::vector<QaFeature>& features_;
  const std::vector<std::vector<float>>& starts_;
  const std::vector<std::vector<float>>& ends_;
  const QaDecodeOptions& options_;
  bool has_null_ = false;
  Span null_;
};

}  // namespace

std::vector<QaPrediction> decode_predictions(const std::vector<QaExample>& examples,
                                             const std::vector<QaFeature>& features,
                                             const std::vector<std::vector<float>>& start_logits,
                                             const std::vector<std::vector<float>>& end_logits,
                                             const QaDecodeOptions& options) {
  check_inputs(examples, features, start_logits, end_logits, options);
  std::vector<std::vector<std::size_t>> windows(examples.size());
  for (std::size_t f = 0; f < features.size(); ++f) windows[features[f].example_index].push_back(f);
  std::vector<QaPrediction> predictions;
  predictions.reserve(examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i)
    predictions.push_back(ExampleDecoder(examples[i], features, start_logits, end_logits, options).decode(windows[i]));
  return predictions;
}

nlohmann::json predictions_json(const std::vector<QaPrediction>& predictions) {
  nlohmann::json out = nlohmann::json::object();
  for (const QaPrediction& p : predictions) out[p.id] = p.text;
  return out;
}

nlohmann::json nbest_json(const std::vector<QaPrediction>& predictions) {
  nlohmann::json out = nlohmann::json::object();
  for (const QaPrediction& p : predictions) {
    nlohmann::json list = nlohmann::json::array();
    for (const QaCandidate& c : p.nbest)
      list.push_back({{"text", c.text},
                      {"probability", c.probability},
                      {"start_logit", c.start_logit},
                      {"end_logit", c.end_logit}});
    out[p.id] = std::move(list);
  }
  return out;
}

nlohmann::json null_odds_json(const std::vector<QaPrediction>& predictions) {
  nlohmann::json out = nlohmann::json::object();
  for (const QaPrediction& p : predictions) out[p.id] = p.null_score_diff;
  return out;
}

}  // namespace bf::ft::qa
