#include "finetune/tagging/tagging_task.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "finetune/tagging/entity_metrics.h"
#include "finetune/tagging/tagging_files.h"
#include "util/error.h"

namespace bf::ft::tagging {

LabelMap tagging_label_map(const std::vector<TaggedSentence>& sentences, const std::vector<std::string>& configured) {
  if (!configured.empty()) return LabelMap(configured);
  // B- and I- of every type seen, even where the training file has only one
  // of them (a type whose entities are all one word has no I-).
  std::set<std::string> seen{"O"};
  for (const auto& s : sentences)
    for (const auto& tag : s.tags) {
      if (tag.size() < 2 || tag[1] != '-') continue;
      seen.insert("B" + tag.substr(1));
      seen.insert("I" + tag.substr(1));
    }
  return LabelMap(std::vector<std::string>(seen.begin(), seen.end()));
}

TaggedReadOptions tagged_read_options(const FinetuneConfig& config) {
  TaggedReadOptions o;
  o.format = config.data.format;
  o.scheme = config.data.tag_scheme;
  o.strict = config.data.strict_tags;
  o.skip_bad_rows = config.data.on_bad_row == OnBadRow::Skip;
  return o;
}

TaggingSettings tagging_settings(const FinetuneConfig& config) {
  TaggingSettings s;
  s.format = config.data.format;
  s.scheme = config.data.tag_scheme;
  s.windows.max_seq_length = config.data.max_seq_length;
  s.windows.stride = config.data.window_stride;
  s.windows.label_all_pieces = config.data.label_all_pieces;
  return s;
}

namespace {

TaggedData read_logged(const std::string& path, const TaggedReadOptions& options) {
  auto data = read_tagged(path, options);
  if (data.sentences.empty()) bf::fail(path + ": no usable sentences");
  if (data.skipped > 0) {
    spdlog::warn("{}: {} bad sentences skipped (on_bad_row: skip)", path, data.skipped);
    for (const auto& m : data.skipped_examples) spdlog::warn("  {}", m);
  }
  return data;
}

}  // namespace

TaggingTask::TaggingTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm)
    : ExampleTask(config, device, comm) {
  const auto read = tagged_read_options(config);
  const auto train = read_logged(config.data.train, read);
  labels_ = tagging_label_map(train.sentences, config.data.labels);
  const auto settings = tagging_settings(config);
  train_ = window_sentences(train.sentences, *tokenizer_, settings.windows, &labels_);
  spdlog::info("train: {} sentences ({} windows) from {}, {} tags", train.sentences.size(), train_.windows.size(),
               config.data.train, labels_.size());
  if (train_.truncated_words > 0)
    spdlog::warn("{}: {} words longer than a window were cut to its length", config.data.train, train_.truncated_words);
  if (!config.data.dev.empty()) {
    dev_ = read_logged(config.data.dev, read);
    dev_windows_ = window_sentences(dev_.sentences, *tokenizer_, settings.windows, &labels_);
    spdlog::info("dev: {} sentences ({} windows) from {}", dev_.sentences.size(), dev_windows_.windows.size(),
                 config.data.dev);
    if (dev_windows_.unknown_tags > 0)
      spdlog::warn("{}: {} tags of types the training file does not have (scored as gold, never predicted)",
                   config.data.dev, dev_windows_.unknown_tags);
  }

  model_config_ = encoder_config(model::Architecture::TokenClassification);
  labels_.store_in(model_config_);
  model_config_.problem_type.reset();
  settings.store_in(model_config_);
  model_ = make_model<model::BertForTokenClassification>();

  // Each window weighs its labelled positions: the step's loss is the mean
  // over all labelled tokens of the step, as one large batch would have it.
  std::vector<std::int64_t> lengths;
  std::vector<double> weights;
  for (const auto& w : train_.windows) {
    lengths.push_back(static_cast<std::int64_t>(w.input_ids.size()));
    weights.push_back(static_cast<double>(std::count_if(w.labels.begin(), w.labels.end(),
                                                        [](std::int64_t l) { return l != kIgnoredLabel; })));
  }
  set_training_examples(std::move(lengths), std::move(weights));
}

train::MicroStep TaggingTask::forward(std::int64_t i) {
  const auto& mine = step_examples(i);
  if (mine.empty()) return empty_micro_step({"loss_sum", "labelled", "correct"});
  const auto b = collate_windows(train_.windows, mine, pad_id_);
  auto labels = b.labels.to(device_);
  auto out = model_->forward(b.input_ids.to(device_), {}, b.attention_mask.to(device_));
  const auto l = model::token_classification_loss_sum(out.logits, labels);
  train::MicroStep step;
  step.loss = l.sum / step_weight();
  step.sums["loss_sum"] = l.sum.item<double>();
  step.sums["labelled"] = static_cast<double>(b.labelled);
  torch::NoGradGuard no_grad;
  step.sums["correct"] = out.logits.argmax(-1).eq(labels).logical_and(labels.ne(kIgnoredLabel)).sum().item<double>();
  return step;
}

std::map<std::string, double> TaggingTask::step_metrics(const std::map<std::string, double>& sums) const {
  const auto labelled = sums.count("labelled") ? sums.at("labelled") : 0.0;
  if (labelled <= 0) return {};
  return {{"token_accuracy", sums.at("correct") / labelled}};
}

ModelEvaluation TaggingTask::evaluate_dev(infer::Model& model) {
  return evaluate_sentences(model, dev_, dev_windows_, config_.data.dev, config_.eval.batch_size);
}

train::Evaluation TaggingTask::evaluate() {
  if (dev_.sentences.empty()) return {};
  // Every rank predicts every world_size-th window; the labels are gathered
  // (padded to the longest window) so that all ranks score the whole set.
  const auto total = static_cast<std::int64_t>(dev_windows_.windows.size());
  const auto mine = my_share(total);
  auto model = inference_model();
  const auto local = predict_windows(model, dev_windows_.windows, mine, config_.eval.batch_size);
  const auto width = config_.data.max_seq_length;
  auto packed = torch::full({static_cast<std::int64_t>(mine.size()), width}, -1, torch::kLong);
  for (std::size_t r = 0; r < mine.size(); ++r)
    for (std::size_t p = 0; p < local.labels[r].size(); ++p)
      packed[static_cast<std::int64_t>(r)][static_cast<std::int64_t>(p)] = local.labels[r][p];
  const auto all = gather_rows(packed, total);
  std::vector<std::vector<std::int64_t>> window_labels(static_cast<std::size_t>(total));
  auto a = all.accessor<std::int64_t, 2>();
  for (std::int64_t w = 0; w < total; ++w)
    for (std::size_t p = 0; p < dev_windows_.windows[static_cast<std::size_t>(w)].input_ids.size(); ++p)
      window_labels[static_cast<std::size_t>(w)].push_back(a[w][static_cast<std::int64_t>(p)]);
  std::vector<double> loss{local.loss_sum, local.labelled};
  comm_.sum(loss);

  const auto predicted = assemble_tags(dev_windows_, window_labels, dev_.sentences, labels_);
  EntityCounter counter;
  for (std::size_t s = 0; s < dev_.sentences.size(); ++s) counter.add(dev_.sentences[s].tags, predicted[s]);
  const auto scores = counter.scores();
  ++evals_;
  spdlog::info("dev evaluation {} ({} sentences):\n{}", evals_, dev_.sentences.size(), scores.table());
  train::Evaluation evaluation;
  evaluation.metrics = {{"f1", scores.f1},
                        {"precision", scores.precision},
                        {"recall", scores.recall},
                        {"accuracy", scores.accuracy},
                        {"loss", loss[0] / std::max(loss[1], 1.0)}};
  evaluation.report = scores.to_json();
  evaluation.report["examples"] = static_cast<std::int64_t>(dev_.sentences.size());
  evaluation.report["loss"] = evaluation.metrics["loss"];
  evaluation.report["eval"] = evals_;
  evaluation.report["epoch"] = epochs_done();
  return evaluation;
}

}  // namespace bf::ft::tagging
