#pragma once
// Exact match and F1 as the official evaluation scripts compute them, so
// that our numbers can be compared with published ones: SQuAD (v1.1 and
// v2.0's evaluate scripts) and CMRC 2018 (its evaluate script).
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "finetune/qa/squad_reader.h"

namespace bf::ft::qa {

// Auto: CMRC when most characters of the contexts are CJK, SQuAD otherwise.
enum class QaMetric { Squad, Cmrc, Auto };

QaMetric parse_qa_metric(const std::string& name);  // "squad", "cmrc" or "auto"
std::string qa_metric_name(QaMetric metric);
QaMetric resolve_metric(QaMetric metric, const std::vector<QaExample>& examples);

// SQuAD: lower-case, drop ASCII punctuation, drop the articles a/an/the,
// collapse whitespace. F1 over the whitespace tokens of that.
std::string squad_normalize(std::string_view text);
bool squad_exact_match(std::string_view prediction, std::string_view gold);
double squad_f1(std::string_view prediction, std::string_view gold);

// CMRC 2018: lower-case and strip, then each CJK character (U+4E00..U+9FA5)
// and each listed punctuation mark is a token of its own, the runs between
// them split at whitespace; remove_punctuation drops the listed marks.
std::vector<std::string> cmrc_segment(std::string_view text, bool remove_punctuation);
std::string cmrc_remove_punctuation(std::string_view text);
bool cmrc_exact_match(std::string_view prediction, std::string_view gold);
// From the longest common contiguous run of tokens.
double cmrc_f1(std::string_view prediction, std::string_view gold);

struct QaScore {
  QaMetric metric = QaMetric::Squad;  // the one used (never Auto)
  double exact_match = 0.0;           // 0-100, as the scripts print them
  double f1 = 0.0;
  int total = 0;
  int missing = 0;  // questions without a prediction (scored 0)
  // v2.0: the questions with and without a gold answer, scored apart.
  int has_answer = 0;
  int no_answer = 0;
  double has_answer_exact_match = 0.0, has_answer_f1 = 0.0;
  double no_answer_exact_match = 0.0, no_answer_f1 = 0.0;
  nlohmann::json to_json() const;
};

// predictions: {id: answer}, the official prediction file format. Each
// question scores its best over its gold answers; a question without any
// (v2.0 is_impossible) has "" as its only gold answer.
QaScore score_predictions(const std::vector<QaExample>& examples, const nlohmann::json& predictions,
                          QaMetric metric = QaMetric::Auto);

}  // namespace bf::ft::qa
