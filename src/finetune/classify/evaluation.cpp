#include "finetune/classify/evaluation.h"

#include "finetune/classify/classifier.h"
#include "finetune/classify/metrics.h"
#include "finetune/tasks.h"
#include "util/error.h"

namespace bf::ft::classify {

torch::Tensor per_example_loss(TaskType task, const torch::Tensor& logits, const torch::Tensor& labels) {
  namespace F = torch::nn::functional;
  auto x = logits.to(torch::kFloat32);
  switch (task) {
    case TaskType::SingleLabel:
      return F::cross_entropy(x, labels.to(torch::kLong), F::CrossEntropyFuncOptions().reduction(torch::kNone));
    case TaskType::MultiLabel:
      return F::binary_cross_entropy_with_logits(
                 x, labels.to(torch::kFloat32), F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone))
          .mean(1);
    case TaskType::Regression: {
      auto diff = x.reshape({-1}) - labels.to(torch::kFloat32).reshape({-1});
      return diff * diff;
    }
    default: break;
  }
  bf::fail("per_example_loss: not a sequence-level task");
}

EvalResult evaluate_logits(const Dataset& data, const torch::Tensor& logits, const LabelMap& labels) {
  const auto n = data.size();
  std::vector<std::int64_t> all(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
  auto batch = collate(data, all, 0);
  if (!batch.labels.defined()) bf::fail(data.path + ": rows without labels cannot be evaluated");
  const double loss = per_example_loss(data.task, logits, batch.labels).mean().item<double>();

  EvalResult result;
  if (data.task == TaskType::SingleLabel) {
    std::vector<std::int64_t> gold, predicted;
    for (std::int64_t i = 0; i < n; ++i) {
      gold.push_back(data.examples[static_cast<std::size_t>(i)].label);
      predicted.push_back(decide(data.task, logits[i]).label);
    }
    result.report = classification_report(gold, predicted, labels.names());
  } else if (data.task == TaskType::MultiLabel) {
    std::vector<std::vector<std::int64_t>> gold, predicted;
    for (std::int64_t i = 0; i < n; ++i) {
      gold.push_back(data.examples[static_cast<std::size_t>(i)].label_ids);
      predicted.push_back(decide(data.task, logits[i]).label_ids);
    }
    result.report = multi_label_report(gold, predicted, labels.names());
  } else {
    std::vector<double> gold, predicted;
    for (std::int64_t i = 0; i < n; ++i) {
      gold.push_back(data.examples[static_cast<std::size_t>(i)].value);
      predicted.push_back(decide(data.task, logits[i]).value);
    }
    result.report = regression_report(gold, predicted);
  }
  result.report["loss"] = loss;
  result.metrics = headline_metrics(result.report);
  return result;
}

}  // namespace bf::ft::classify
