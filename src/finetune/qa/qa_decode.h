#pragma once
// Start/end logits of every window -> one answer per example, as Google's
// run_squad.py writes predictions: the best spans of each window, the best
// over all windows of an example, an n-best list and, for SQuAD v2.0, the
// choice between that span and "no answer".
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "finetune/qa/qa_features.h"
#include "finetune/qa/squad_reader.h"

namespace bf::ft::qa {

struct QaDecodeOptions {
  int n_best_size = 20;        // best starts and ends tried per window, and the n-best list's length
  int max_answer_length = 30;  // in pieces
  // SQuAD v2.0: "no answer" ([CLS] as start and end) competes with the spans.
  bool version_2_with_negative = false;
  // Predict "" when null score - best span score exceeds this.
  double null_score_diff_threshold = 0.0;
};

struct QaCandidate {
  std::string text;  // "" for the no-answer candidate
  float start_logit = 0.0f;
  float end_logit = 0.0f;
  double probability = 0.0;  // softmax over the n-best list's start + end logits
  // Where text sits in the context, in bytes (0, 0 for no answer): typed
  // requests report it; the files predict writes do not.
  std::size_t begin = 0, end = 0;
};

struct QaPrediction {
  std::string id;
  std::string text;                 // the answer: a substring of the context, or ""
  std::size_t begin = 0, end = 0;   // its bytes in the context (0, 0 for "")
  std::vector<QaCandidate> nbest;   // best first
  bool has_span = false;            // some span passed the rules
  double best_span_score = 0.0;     // start + end logit of the best span
  double null_score = 0.0;          // v2: min over windows of start[0] + end[0]
  double null_score_diff = 0.0;     // v2: null_score - best_span_score (what the threshold compares)
};

// start_logits[f] and end_logits[f] belong to features[f] and have its
// length. Returns one prediction per example, in example order.
std::vector<QaPrediction> decode_predictions(const std::vector<QaExample>& examples,
                                             const std::vector<QaFeature>& features,
                                             const std::vector<std::vector<float>>& start_logits,
                                             const std::vector<std::vector<float>>& end_logits,
                                             const QaDecodeOptions& options = {});

// The official formats: {id: answer} (what the SQuAD and CMRC evaluation
// scripts read), {id: [{text, probability, start_logit, end_logit}]}, and
// Google's null_odds {id: null_score_diff}.
nlohmann::json predictions_json(const std::vector<QaPrediction>& predictions);
nlohmann::json nbest_json(const std::vector<QaPrediction>& predictions);
nlohmann::json null_odds_json(const std::vector<QaPrediction>& predictions);

}  // namespace bf::ft::qa
