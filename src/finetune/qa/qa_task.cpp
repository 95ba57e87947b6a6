#include "finetune/qa/qa_task.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "finetune/qa/qa_files.h"
#include "util/error.h"

namespace bf::ft::qa {

QaSettings qa_settings(const FinetuneConfig& config) {
  QaSettings s;
  s.features.max_seq_length = static_cast<int>(config.data.max_seq_length);
  s.features.doc_stride = static_cast<int>(config.data.doc_stride);
  s.features.max_query_length = static_cast<int>(config.data.max_query_length);
  s.decode.n_best_size = static_cast<int>(config.data.n_best_size);
  s.decode.max_answer_length = static_cast<int>(config.data.max_answer_length);
  s.decode.null_score_diff_threshold = config.data.null_score_diff_threshold;
  s.metric = config.data.qa_metric;
  return s;
}

QaTask::QaTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm)
    : ExampleTask(config, device, comm), settings_(qa_settings(config)) {
  check_options(settings_.features);
  const auto train = read_squad(config.data.train, /*training=*/true);
  if (train.examples.empty()) bf::fail(config.data.train + ": no answerable questions");
  settings_.decode.version_2_with_negative = train.has_impossible;
  train_ = build_features(train.examples, *tokenizer_, settings_.features, /*training=*/true);
  spdlog::info("train: {} questions ({} windows) from {}; read {}, windows {}", train.examples.size(),
               train_.features.size(), config.data.train, train.stats.to_json().dump(), train_.stats.to_json().dump());
  if (!config.data.dev.empty()) {
    dev_ = read_squad(config.data.dev, /*training=*/false);
    dev_features_ = build_features(dev_.examples, *tokenizer_, settings_.features, /*training=*/false);
    settings_.decode.version_2_with_negative = settings_.decode.version_2_with_negative || dev_.has_impossible;
    settings_.metric = resolve_metric(settings_.metric, dev_.examples);
    spdlog::info("dev: {} questions ({} windows) from {}, metric {}", dev_.examples.size(),
                 dev_features_.features.size(), config.data.dev, qa_metric_name(settings_.metric));
  }

  model_config_ = encoder_config(model::Architecture::QuestionAnswering);
  model_config_.num_labels = 2;
  model_config_.id2label.clear();
  model_config_.problem_type.reset();
  settings_.store_in(model_config_);
  model_ = make_model<model::BertForQuestionAnswering>();

  std::vector<std::int64_t> lengths;
  for (const auto& f : train_.features) lengths.push_back(f.size());
  set_training_examples(std::move(lengths));
}

train::MicroStep QaTask::forward(std::int64_t i) {
  const auto& mine = step_examples(i);
  if (mine.empty()) return empty_micro_step({"loss_sum", "windows", "start_correct", "end_correct"});
  const auto b = collate_features(train_.features, mine, pad_id_);
  auto start = b.start_positions.to(device_);
  auto end = b.end_positions.to(device_);
  auto out = model_->forward(b.input_ids.to(device_), b.token_type_ids.to(device_), b.attention_mask.to(device_));
  const auto l = model::span_loss_sum(out.start_logits, out.end_logits, start, end);
  // HF's loss, (mean CE(start) + mean CE(end)) / 2, summed here and divided by
  // the whole step's windows (the positions are always inside the window).
  const auto loss_sum = (l.start_sum + l.end_sum) / 2;
  train::MicroStep step;
  step.loss = loss_sum / step_weight();
  step.sums["loss_sum"] = loss_sum.item<double>();
  step.sums["windows"] = static_cast<double>(mine.size());
  torch::NoGradGuard no_grad;
  step.sums["start_correct"] = out.start_logits.argmax(-1).eq(start).sum().item<double>();
  step.sums["end_correct"] = out.end_logits.argmax(-1).eq(end).sum().item<double>();
  return step;
}

std::map<std::string, double> QaTask::step_metrics(const std::map<std::string, double>& sums) const {
  const auto windows = sums.count("windows") ? sums.at("windows") : 0.0;
  if (windows <= 0) return {};
  return {{"start_accuracy", sums.at("start_correct") / windows}, {"end_accuracy", sums.at("end_correct") / windows}};
}

ModelEvaluation QaTask::evaluate_dev(infer::Model& model) {
  return evaluate_questions(model, dev_, dev_features_, settings_, config_.data.dev, config_.eval.batch_size);
}

train::Evaluation QaTask::evaluate() {
  if (dev_.examples.empty()) return {};
  // Every rank predicts every world_size-th window; the logits are gathered
  // (padded to max_seq_length) so that all ranks decode and score the whole set.
  const auto& features = dev_features_.features;
  const auto total = static_cast<std::int64_t>(features.size());
  const auto mine = my_share(total);
  auto model = inference_model();
  auto local = predict_spans(model, features, mine, config_.eval.batch_size);
  const auto width = static_cast<std::int64_t>(settings_.features.max_seq_length);
  auto packed = torch::zeros({static_cast<std::int64_t>(mine.size()), 2, width}, torch::kFloat32);
  for (std::size_t r = 0; r < mine.size(); ++r) {
    const auto row = static_cast<std::int64_t>(r);
    const auto n = static_cast<std::int64_t>(local.start[r].size());
    packed[row][0].narrow(0, 0, n).copy_(torch::from_blob(local.start[r].data(), {n}, torch::kFloat32));
    packed[row][1].narrow(0, 0, n).copy_(torch::from_blob(local.end[r].data(), {n}, torch::kFloat32));
  }
  const auto all = gather_rows(packed, total);
  std::vector<std::vector<float>> start(static_cast<std::size_t>(total)), end(static_cast<std::size_t>(total));
  for (std::int64_t f = 0; f < total; ++f) {
    const auto n = features[static_cast<std::size_t>(f)].size();
    const float* s = all[f][0].data_ptr<float>();
    const float* e = all[f][1].data_ptr<float>();
    start[static_cast<std::size_t>(f)].assign(s, s + n);
    end[static_cast<std::size_t>(f)].assign(e, e + n);
  }
  const auto predictions = decode_predictions(dev_.examples, features, start, end, settings_.decode);
  const auto score = score_predictions(dev_.examples, predictions_json(predictions), settings_.metric);
  ++evals_;
  spdlog::info("dev evaluation {} ({} questions): exact_match {:.2f}, f1 {:.2f} ({})", evals_, dev_.examples.size(),
               score.exact_match, score.f1, qa_metric_name(score.metric));
  train::Evaluation evaluation;
  evaluation.metrics = {{"exact_match", score.exact_match}, {"f1", score.f1}};
  evaluation.report = qa_report(score, dev_, dev_features_);
  evaluation.report["eval"] = evals_;
  evaluation.report["epoch"] = epochs_done();
  return evaluation;
}

}  // namespace bf::ft::qa
