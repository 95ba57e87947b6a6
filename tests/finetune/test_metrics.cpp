// Metric functions against values worked out by hand (and scikit-learn/scipy).
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include "finetune/batch_plan.h"
#include "finetune/classify/metrics.h"

using namespace bf;

TEST_CASE("classification: accuracy, per-class P/R/F1, macro-F1, confusion matrix", "[finetune][metrics]") {
  const std::vector<std::int64_t> gold{0, 0, 1, 1, 1, 2}, pred{0, 1, 1, 1, 0, 2};
  const auto m = ft::classify::confusion_matrix(gold, pred, 3);
  CHECK(m == std::vector<std::vector<std::int64_t>>{{1, 1, 0}, {1, 2, 0}, {0, 0, 1}});
  CHECK(ft::classify::accuracy(gold, pred) == Approx(4.0 / 6));
  const auto c1 = ft::classify::class_scores(m, 1);
  CHECK(c1.precision == Approx(2.0 / 3));
  CHECK(c1.recall == Approx(2.0 / 3));
  CHECK(c1.support == 3);
  CHECK(ft::classify::class_scores(m, 0).f1 == Approx(0.5));
  CHECK(ft::classify::macro_f1(m) == Approx((0.5 + 2.0 / 3 + 1.0) / 3));
  const auto report = ft::classify::classification_report(gold, pred, {"a", "b", "c"});
  CHECK(report["per_class"][2]["f1"] == 1.0);
  CHECK_FALSE(report.contains("mcc"));  // binary only
}

TEST_CASE("binary: F1 of class 1 and MCC", "[finetune][metrics]") {
  // tp 3, fn 1, fp 1, tn 3
  const std::vector<std::int64_t> gold{1, 1, 0, 0, 1, 0, 1, 0}, pred{1, 0, 0, 0, 1, 1, 1, 0};
  const auto report = ft::classify::classification_report(gold, pred, {"0", "1"});
  CHECK(report["mcc"].get<double>() == Approx(0.5));
  CHECK(report["f1"].get<double>() == Approx(0.75));
  CHECK(ft::classify::binary_mcc({{5, 0}, {5, 0}}) == 0.0);  // undefined: 0, as scikit-learn
}

TEST_CASE("multi-label: exact match, micro- and macro-F1", "[finetune][metrics]") {
  const auto report = ft::classify::multi_label_report({{0, 1}, {1}, {}}, {{0}, {1, 2}, {}}, {"a", "b", "c"});
  CHECK(report["exact_match"].get<double>() == Approx(1.0 / 3));
  CHECK(report["micro_f1"].get<double>() == Approx(2.0 / 3));
  CHECK(report["macro_f1"].get<double>() == Approx((1.0 + 2.0 / 3 + 0.0) / 3));
}

TEST_CASE("regression: Pearson and Spearman with tied ranks", "[finetune][metrics]") {
  const std::vector<double> x{1, 2, 3, 4, 5}, y{2, 4, 5, 4, 5};
  CHECK(ft::classify::pearson(x, y) == Approx(6.0 / std::sqrt(60.0)));
  CHECK(ft::classify::average_ranks(y) == std::vector<double>{1, 2.5, 4.5, 2.5, 4.5});
  CHECK(ft::classify::spearman(x, y) == Approx(0.7378647873726218));  // scipy.stats.spearmanr
  const auto report = ft::classify::regression_report(x, y);
  CHECK(report["mse"].get<double>() == Approx((1 + 4 + 4 + 0 + 0) / 5.0));
}

TEST_CASE("batch plans: a function of (seed, epoch), every example once, grouped by length", "[finetune][batches]") {
  std::vector<std::int64_t> lengths;
  for (int i = 0; i < 103; ++i) lengths.push_back(5 + (i * 37) % 40);
  ft::PlanOptions o;
  o.batch_size = 8;
  const auto a = ft::plan_epoch(lengths, o, 1, 0);
  CHECK(a == ft::plan_epoch(lengths, o, 1, 0));
  CHECK(a != ft::plan_epoch(lengths, o, 1, 1));
  CHECK(a.size() == 13);
  std::vector<int> seen(103, 0);
  for (const auto& b : a)
    for (auto i : b) ++seen[static_cast<std::size_t>(i)];
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));

  o.group_by_length = true;
  o.group_window = 100;  // one window: batches are cut from one sorted run
  auto padded = [&](const ft::BatchIndex& plan) {
    std::int64_t total = 0;
    for (const auto& b : plan) {
      std::int64_t longest = 0;
      for (auto i : b) longest = std::max(longest, lengths[static_cast<std::size_t>(i)]);
      total += longest * static_cast<std::int64_t>(b.size());
    }
    return total;
  };
  CHECK(padded(ft::plan_epoch(lengths, o, 1, 0)) < padded(a));
}
