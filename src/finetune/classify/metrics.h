#pragma once
// Evaluation metrics, as scikit-learn and scipy define them: accuracy,
// per-class precision/recall/F1 (0 when undefined), macro-F1, the confusion
// matrix, MCC for binary tasks; micro/macro-F1 and exact-match accuracy for
// multi-label; Pearson and Spearman (average ranks for ties) for regression.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bf::ft::classify {

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  std::int64_t support = 0;
};

// confusion[gold][predicted]
std::vector<std::vector<std::int64_t>> confusion_matrix(const std::vector<std::int64_t>& gold,
                                                        const std::vector<std::int64_t>& predicted,
                                                        std::int64_t classes);
ClassScores class_scores(const std::vector<std::vector<std::int64_t>>& confusion, std::int64_t c);
double accuracy(const std::vector<std::int64_t>& gold, const std::vector<std::int64_t>& predicted);
double macro_f1(const std::vector<std::vector<std::int64_t>>& confusion);
double binary_mcc(const std::vector<std::vector<std::int64_t>>& confusion);
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);
std::vector<double> average_ranks(const std::vector<double>& x);

// Full reports (JSON, for metrics files and logs). Top-level numbers are the
// headline metrics: accuracy, macro_f1, and for two classes f1 (of class 1,
// as GLUE reports it) and mcc.
nlohmann::json classification_report(const std::vector<std::int64_t>& gold, const std::vector<std::int64_t>& predicted,
                                     const std::vector<std::string>& names);
// gold/predicted: one list of class ids per row.
nlohmann::json multi_label_report(const std::vector<std::vector<std::int64_t>>& gold,
                                  const std::vector<std::vector<std::int64_t>>& predicted,
                                  const std::vector<std::string>& names);
nlohmann::json regression_report(const std::vector<double>& gold, const std::vector<double>& predicted);

// A compact multi-line table of per-class scores and the confusion matrix.
std::string format_report(const nlohmann::json& report);

}  // namespace bf::ft::classify
