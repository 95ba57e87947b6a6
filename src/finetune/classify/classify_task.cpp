#include "finetune/classify/classify_task.h"

#include <spdlog/spdlog.h>

#include "finetune/classify/classifier.h"
#include "finetune/classify/classify_files.h"
#include "finetune/classify/evaluation.h"
#include "finetune/classify/metrics.h"
#include "util/error.h"

namespace bf::ft::classify {

ClassifyTask::ClassifyTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm)
    : ExampleTask(config, device, comm) {
  const auto options = config.data.read_options();
  BadRowPolicy policy(options.skip_bad_rows);
  auto rows = read_rows(config.data.train, options, policy);
  if (options.task != TaskType::Regression)
    labels_ = config.data.labels.empty() ? build_label_map(rows, options) : LabelMap(config.data.labels);
  if (options.task != TaskType::Regression && labels_.size() < 2 && options.task == TaskType::SingleLabel)
    bf::fail(config.data.train + ": a single-label task needs at least two classes; found " +
             std::to_string(labels_.size()));
  train_ = make_dataset(config.data.train, rows, options, *tokenizer_, labels_, policy);
  if (train_.examples.empty()) bf::fail(config.data.train + ": no usable rows");
  if (train_.skipped > 0) spdlog::warn("{}: {} bad rows skipped (on_bad_row: skip)", config.data.train, train_.skipped);
  if (config.data.labels_per_class > 0) {
    keep_examples_per_class(train_, config.data.labels_per_class, static_cast<std::uint64_t>(config.run.seed));
    spdlog::info("data.labels_per_class {}: {} training examples kept (drawn with run.seed {})",
                 config.data.labels_per_class, train_.size(), config.run.seed);
  }
  spdlog::info("train: {} examples from {}, {} classes", train_.size(), config.data.train, labels_.size());
  if (!config.data.dev.empty()) {
    dev_ = load_dataset(config.data.dev, options, *tokenizer_, labels_);
    spdlog::info("dev: {} examples from {}", dev_->size(), config.data.dev);
  }
  class_weights_ = class_weights_for(config.data.class_weights, train_);
  build_model();
  std::vector<double> weights;
  if (!class_weights_.empty())
    for (const auto& e : train_.examples) weights.push_back(class_weights_[static_cast<std::size_t>(e.label)]);
  set_training_examples(train_.lengths(), std::move(weights));
}

void ClassifyTask::build_model() {
  model_config_ = encoder_config(model::Architecture::SequenceClassification);
  const auto task = config_.task();
  model_config_.problem_type = problem_type_of(task);
  if (task == TaskType::Regression) {
    model_config_.num_labels = 1;
    model_config_.id2label.clear();
  } else {
    labels_.store_in(model_config_);
  }
  config_.model.head.store_in(model_config_);
  // evaluate and predict read new files with the same columns and length.
  store_data_settings(model_config_, config_.data.read_options());
  model_ = make_model<model::BertForSequenceClassification>();
}

train::MicroStep ClassifyTask::forward(std::int64_t i) {
  const auto& mine = step_examples(i);
  if (mine.empty()) {
    auto none = empty_micro_step({"loss_sum", "examples"});
    if (train_.task != TaskType::Regression) none.sums["correct"] = 0.0;
    return none;
  }
  const auto b = collate(train_, mine, pad_id_);
  auto out = model_->forward(b.input_ids.to(device_), b.token_type_ids.to(device_), b.attention_mask.to(device_));
  auto labels = b.labels.to(device_);
  auto losses = per_example_loss(train_.task, out.logits, labels);
  if (!class_weights_.empty())
    losses = losses * torch::tensor(class_weights_, torch::kFloat32).to(device_).index_select(0, labels);
  train::MicroStep step;
  const auto loss_sum = losses.sum();
  step.loss = loss_sum / step_weight();
  step.sums["loss_sum"] = loss_sum.item<double>();
  step.sums["examples"] = static_cast<double>(b.index.size());
  torch::NoGradGuard no_grad;
  auto logits = out.logits.detach().to(torch::kFloat32);
  if (train_.task == TaskType::SingleLabel) {
    step.sums["correct"] = logits.argmax(1).eq(labels).sum().item<double>();
  } else if (train_.task == TaskType::MultiLabel) {
    step.sums["correct"] = (logits > 0).eq(labels > 0.5).all(1).sum().item<double>();
  }
  return step;
}

std::map<std::string, double> ClassifyTask::step_metrics(const std::map<std::string, double>& sums) const {
  std::map<std::string, double> m;
  auto it = sums.find("correct");
  const auto examples = sums.count("examples") ? sums.at("examples") : 0.0;
  if (it != sums.end() && examples > 0) m[train_.task == TaskType::MultiLabel ? "exact_match" : "accuracy"] = it->second / examples;
  return m;
}

// Every rank predicts every world_size-th dev example; the logits are
// gathered so all ranks compute the same metrics (and the same decisions).
torch::Tensor ClassifyTask::dev_logits() {
  auto model = inference_model();
  if (comm_.world_size() == 1) return predict_logits(model, *dev_, config_.eval.batch_size);
  Dataset part;  // this rank's share: the same file and task, every world_size-th example
  part.path = dev_->path;
  part.task = dev_->task;
  part.num_labels = dev_->num_labels;
  for (auto k : my_share(dev_->size())) part.examples.push_back(dev_->examples[static_cast<std::size_t>(k)]);
  torch::Tensor logits;
  if (part.examples.empty()) {
    logits = torch::zeros({0, std::max<std::int64_t>(model_config_.num_labels, 1)});
  } else {
    logits = predict_logits(model, part, config_.eval.batch_size);
  }
  return gather_rows(logits.to(torch::kFloat32), dev_->size());
}

ModelEvaluation ClassifyTask::evaluate_dev(infer::Model& model) {
  const auto result = evaluate_examples(model, *dev_, config_.eval.batch_size);
  return {result.report, format_report(result.report)};
}

train::Evaluation ClassifyTask::evaluate() {
  if (!dev_) return {};
  auto result = evaluate_logits(*dev_, dev_logits(), labels_);
  ++evals_;
  const auto table = format_report(result.report);
  if (!table.empty()) spdlog::info("dev evaluation {} ({} examples):\n{}", evals_, dev_->size(), table);
  train::Evaluation evaluation{result.metrics, result.report};
  evaluation.report["eval"] = evals_;
  evaluation.report["epoch"] = epochs_done();
  return evaluation;
}

}  // namespace bf::ft::classify
