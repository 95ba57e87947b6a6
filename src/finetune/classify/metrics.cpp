#include "finetune/classify/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace bf::ft::classify {
namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

double f1_of(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

nlohmann::json class_json(const std::string& name, const ClassScores& s) {
  return {{"label", name}, {"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}};
}

}  // namespace

std::vector<std::vector<std::int64_t>> confusion_matrix(const std::vector<std::int64_t>& gold,
                                                        const std::vector<std::int64_t>& predicted,
                                                        std::int64_t classes) {
  if (gold.size() != predicted.size()) bf::fail("confusion_matrix: gold and predicted differ in length");
  std::vector<std::vector<std::int64_t>> m(static_cast<std::size_t>(classes),
                                           std::vector<std::int64_t>(static_cast<std::size_t>(classes), 0));
  for (std::size_t i = 0; i < gold.size(); ++i) ++m.at(static_cast<std::size_t>(gold[i])).at(static_cast<std::size_t>(predicted[i]));
  return m;
}

ClassScores class_scores(const std::vector<std::vector<std::int64_t>>& m, std::int64_t c) {
  const auto k = static_cast<std::size_t>(c);
  double tp = static_cast<double>(m[k][k]), predicted = 0, actual = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    predicted += static_cast<double>(m[i][k]);
    actual += static_cast<double>(m[k][i]);
  }
  ClassScores s;
  s.precision = ratio(tp, predicted);
  s.recall = ratio(tp, actual);
  s.f1 = f1_of(s.precision, s.recall);
  s.support = static_cast<std::int64_t>(actual);
  return s;
}

double accuracy(const std::vector<std::int64_t>& gold, const std::vector<std::int64_t>& predicted) {
  std::int64_t right = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) right += gold[i] == predicted[i];
  return ratio(static_cast<double>(right), static_cast<double>(gold.size()));
}

double macro_f1(const std::vector<std::vector<std::int64_t>>& m) {
  if (m.empty()) return 0;
  double sum = 0;
  for (std::size_t c = 0; c < m.size(); ++c) sum += class_scores(m, static_cast<std::int64_t>(c)).f1;
  return sum / static_cast<double>(m.size());
}

double binary_mcc(const std::vector<std::vector<std::int64_t>>& m) {
  if (m.size() != 2) bf::fail("binary_mcc: needs two classes");
  const double tn = static_cast<double>(m[0][0]), fp = static_cast<double>(m[0][1]);
  const double fn = static_cast<double>(m[1][0]), tp = static_cast<double>(m[1][1]);
  const double denominator = std::sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return denominator > 0 ? (tp * tn - fp * fn) / denominator : 0.0;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  if (x.size() != y.size() || x.size() < 2) return 0;
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;  // ties share their mean rank
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson(average_ranks(x), average_ranks(y));
}

nlohmann::json classification_report(const std::vector<std::int64_t>& gold, const std::vector<std::int64_t>& predicted,
                                     const std::vector<std::string>& names) {
  const auto classes = static_cast<std::int64_t>(names.size());
  const auto m = confusion_matrix(gold, predicted, classes);
  nlohmann::json report = {{"examples", gold.size()}, {"accuracy", accuracy(gold, predicted)}, {"macro_f1", macro_f1(m)}};
  if (classes == 2) {
    report["f1"] = class_scores(m, 1).f1;
    report["mcc"] = binary_mcc(m);
  }
  nlohmann::json per_class = nlohmann::json::array();
  for (std::int64_t c = 0; c < classes; ++c) per_class.push_back(class_json(names[static_cast<std::size_t>(c)], class_scores(m, c)));
  report["per_class"] = per_class;
  report["labels"] = names;
  report["confusion_matrix"] = m;
  return report;
}

nlohmann::json multi_label_report(const std::vector<std::vector<std::int64_t>>& gold,
                                  const std::vector<std::vector<std::int64_t>>& predicted,
                                  const std::vector<std::string>& names) {
  const std::size_t classes = names.size();
  std::vector<double> tp(classes, 0), fp(classes, 0), fn(classes, 0);
  std::int64_t exact = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    std::vector<char> g(classes, 0), p(classes, 0);
    for (auto c : gold[i]) g.at(static_cast<std::size_t>(c)) = 1;
    for (auto c : predicted[i]) p.at(static_cast<std::size_t>(c)) = 1;
    exact += g == p;
    for (std::size_t c = 0; c < classes; ++c) {
      tp[c] += g[c] && p[c];
      fp[c] += !g[c] && p[c];
      fn[c] += g[c] && !p[c];
    }
  }
  nlohmann::json per_class = nlohmann::json::array();
  double macro = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    ClassScores s;
    s.precision = ratio(tp[c], tp[c] + fp[c]);
    s.recall = ratio(tp[c], tp[c] + fn[c]);
    s.f1 = f1_of(s.precision, s.recall);
    s.support = static_cast<std::int64_t>(tp[c] + fn[c]);
    macro += s.f1;
    per_class.push_back(class_json(names[c], s));
  }
  const double all_tp = std::accumulate(tp.begin(), tp.end(), 0.0);
  const double micro_p = ratio(all_tp, all_tp + std::accumulate(fp.begin(), fp.end(), 0.0));
  const double micro_r = ratio(all_tp, all_tp + std::accumulate(fn.begin(), fn.end(), 0.0));
  return {{"examples", gold.size()},
          {"exact_match", ratio(static_cast<double>(exact), static_cast<double>(gold.size()))},
          {"micro_f1", f1_of(micro_p, micro_r)},
          {"macro_f1", classes > 0 ? macro / static_cast<double>(classes) : 0.0},
          {"per_class", per_class},
          {"labels", names}};
}

nlohmann::json regression_report(const std::vector<double>& gold, const std::vector<double>& predicted) {
  double squared = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) squared += (gold[i] - predicted[i]) * (gold[i] - predicted[i]);
  return {{"examples", gold.size()},
          {"mse", ratio(squared, static_cast<double>(gold.size()))},
          {"pearson", pearson(gold, predicted)},
          {"spearman", spearman(gold, predicted)}};
}

std::string format_report(const nlohmann::json& report) {
  if (!report.contains("per_class")) return "";
  std::size_t width = 5;
  for (const auto& c : report["per_class"]) width = std::max(width, c["label"].get<std::string>().size());
  std::string out = fmt::format("  {:<{}}  precision  recall     f1  support\n", "label", width);
  for (const auto& c : report["per_class"])
    out += fmt::format("  {:<{}}  {:9.4f}  {:6.4f}  {:.4f}  {:7d}\n", c["label"].get<std::string>(), width,
                       c["precision"].get<double>(), c["recall"].get<double>(), c["f1"].get<double>(),
                       c["support"].get<std::int64_t>());
  if (report.contains("confusion_matrix")) {
    out += "  confusion matrix (rows: gold, columns: predicted)\n";
    const auto& labels = report["labels"];
    std::size_t i = 0;
    for (const auto& row : report["confusion_matrix"]) {
      out += fmt::format("  {:<{}}", labels[i++].get<std::string>(), width);
      for (const auto& v : row) out += fmt::format(" {:7d}", v.get<std::int64_t>());
      out += "\n";
    }
  }
  return out;
}

}  // namespace bf::ft::classify
