#include "finetune/finetune_task.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "finetune/evaluation.h"
#include "finetune/inference.h"
#include "finetune/metrics.h"
#include "io/hf_model.h"
#include "model/init_weights.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::ft {
namespace fs = std::filesystem;

FinetuneTask::FinetuneTask(const FinetuneConfig& config, torch::Device device, train::Collective* comm)
    : config_(config), device_(device), comm_(comm ? *comm : train::single_process()), best_metric_(config.best_metric()) {
  const auto& init_from = config.model.arch.init_from;
  const auto tokenizer_dir = !config.model.tokenizer.empty() ? config.model.tokenizer : resolve_model_dir(init_from);
  tokenizer_ = tok::load_tokenizer(tokenizer_dir);
  pad_id_ = tokenizer_->special_ids().pad;

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
  spdlog::info("train: {} examples from {}, {} classes", train_.size(), config.data.train, labels_.size());
  if (!config.data.dev.empty()) {
    dev_ = load_dataset(config.data.dev, options, *tokenizer_, labels_);
    spdlog::info("dev: {} examples from {}", dev_->size(), config.data.dev);
  }
  class_weights_ = class_weights_for(config.data.class_weights, train_);
  build_model();

  plan_options_.batch_size = global_batch_size();
  plan_options_.shuffle = config.data.shuffle;
  plan_options_.group_by_length = config.data.group_by_length;
}

void FinetuneTask::build_model() {
  const auto& arch = config_.model.arch;
  std::string model_dir;
  if (!arch.init_from.empty()) {
    model_dir = resolve_model_dir(arch.init_from);
    model_config_ = io::load_model_config(model_dir);
  } else {
    model_config_ = arch.resolve(tokenizer_->vocab_size(), pad_id_);
  }
  if (model_config_.vocab_size != tokenizer_->vocab_size())
    bf::fail("model.tokenizer has " + std::to_string(tokenizer_->vocab_size()) + " tokens but the model's vocab_size is " +
             std::to_string(model_config_.vocab_size));
  if (config_.data.max_seq_length > model_config_.max_position_embeddings)
    bf::fail("data.max_seq_length (" + std::to_string(config_.data.max_seq_length) +
             ") exceeds the model's max_position_embeddings (" + std::to_string(model_config_.max_position_embeddings) + ")");
  const auto task = config_.task();
  model_config_.architectures = {"BertForSequenceClassification"};
  model_config_.problem_type = problem_type_of(task);
  if (task == TaskType::Regression) {
    model_config_.num_labels = 1;
    model_config_.id2label.clear();
  } else {
    labels_.store_in(model_config_);
  }
  if (config_.model.classifier_dropout) model_config_.classifier_dropout = config_.model.classifier_dropout;
  config_.model.head.options().store_in(model_config_);
  // evaluate and predict read new files with the same columns and length.
  store_data_settings(model_config_, config_.data.read_options());
  model_config_.validate("model");

  // The head's initialisation is a function of the run seed alone.
  torch::manual_seed(static_cast<std::uint64_t>(config_.run.seed));
  model_ = model::BertForSequenceClassification(model_config_);
  model::init_bert_weights(*model_, model_config_);
  if (!model_dir.empty()) {
    // Only the encoder (and pooler) comes from the checkpoint: the head is new.
    const auto report = io::load_weights(*model_->bert, io::find_weights_file(model_dir));
    if (report.loaded.empty()) bf::fail(model_dir + ": no encoder weights matched: " + report.summary());
    spdlog::info("model.init_from {}: {}", model_dir, report.summary());
  } else {
    spdlog::info("model: {} layers, hidden {}, random initialisation (no init_from)", model_config_.num_hidden_layers,
                 model_config_.hidden_size);
  }
  model_->to(device_);
}

std::vector<std::int64_t> FinetuneTask::next_batch() {
  if (planned_epoch_ != epoch_) {
    plan_ = plan_epoch(train_.lengths(), plan_options_, static_cast<std::uint64_t>(config_.run.seed), epoch_);
    planned_epoch_ = epoch_;
  }
  auto index = plan_.at(static_cast<std::size_t>(batch_));
  if (++batch_ == static_cast<std::int64_t>(plan_.size())) {
    batch_ = 0;
    ++epoch_;
  }
  return index;
}

void FinetuneTask::begin_step(std::int64_t micro_batches) {
  step_batches_.clear();
  step_weight_ = 0;
  tokens_in_step_ = 0;
  const auto world = static_cast<std::size_t>(comm_.world_size());
  const auto rank = static_cast<std::size_t>(comm_.rank());
  for (std::int64_t i = 0; i < micro_batches; ++i) {
    const auto global = next_batch();
    // The step's weight counts every rank's examples: each rank's loss is
    // then its share of one global mean (see Collective::average_gradients).
    for (auto e : global)
      step_weight_ += class_weights_.empty()
                          ? 1.0
                          : class_weights_[static_cast<std::size_t>(train_.examples[static_cast<std::size_t>(e)].label)];
    std::vector<std::int64_t> mine;
    for (std::size_t k = rank; k < global.size(); k += world) mine.push_back(global[k]);
    Batch batch;
    if (!mine.empty()) batch = collate(train_, mine, pad_id_);
    tokens_in_step_ += batch.tokens;
    step_batches_.push_back(std::move(batch));
  }
  step_weight_ /= static_cast<double>(world);
}

train::MicroStep FinetuneTask::forward(std::int64_t i) {
  const auto& b = step_batches_.at(static_cast<std::size_t>(i));
  if (b.index.empty()) {
    // The last batch of an epoch can leave a rank without examples; it still
    // takes part in the step (its gradients are zero).
    train::MicroStep none;
    none.loss = torch::zeros({}, torch::TensorOptions(device_)).requires_grad_();
    none.sums = {{"loss_sum", 0.0}, {"examples", 0.0}};
    if (train_.task != TaskType::Regression) none.sums["correct"] = 0.0;
    return none;
  }
  auto out = model_->forward(b.input_ids.to(device_), b.token_type_ids.to(device_), b.attention_mask.to(device_));
  auto labels = b.labels.to(device_);
  auto losses = per_example_loss(train_.task, out.logits, labels);
  if (!class_weights_.empty())
    losses = losses * torch::tensor(class_weights_, torch::kFloat32).to(device_).index_select(0, labels);
  train::MicroStep step;
  const auto loss_sum = losses.sum();
  step.loss = loss_sum / std::max(step_weight_, 1e-12);
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

std::map<std::string, double> FinetuneTask::step_metrics(const std::map<std::string, double>& sums) const {
  std::map<std::string, double> m;
  auto it = sums.find("correct");
  const auto examples = sums.count("examples") ? sums.at("examples") : 0.0;
  if (it != sums.end() && examples > 0) m[train_.task == TaskType::MultiLabel ? "exact_match" : "accuracy"] = it->second / examples;
  return m;
}

nlohmann::json FinetuneTask::data_state() const {
  return {{"epoch", epoch_},
          {"batch", batch_},
          {"evals", evals_},
          {"evals_since_best", evals_since_best_},
          {"best", best_ ? nlohmann::json(*best_) : nlohmann::json()}};
}

void FinetuneTask::restore_data_state(const nlohmann::json& state) {
  epoch_ = state.at("epoch").get<std::int64_t>();
  batch_ = state.at("batch").get<std::int64_t>();
  evals_ = state.value("evals", std::int64_t{0});
  evals_since_best_ = state.value("evals_since_best", std::int64_t{0});
  best_.reset();
  if (state.contains("best") && state["best"].is_number()) best_ = state["best"].get<double>();
  planned_epoch_ = -1;
  if (batch_ >= batches_per_epoch(train_.size(), global_batch_size()))
    bf::fail("resume: the data cursor (batch " + std::to_string(batch_) + ") is past the end of " + config_.data.train +
             " (did the training file change?)");
}

std::int64_t FinetuneTask::steps_per_epoch() const {
  return std::max<std::int64_t>(1, batches_per_epoch(train_.size(), global_batch_size()) /
                                       config_.training.grad_accum_steps);
}

double FinetuneTask::epochs_done() const {
  const auto per_epoch = batches_per_epoch(train_.size(), global_batch_size());
  return static_cast<double>(epoch_) + static_cast<double>(batch_) / static_cast<double>(per_epoch);
}

std::int64_t FinetuneTask::eval_every_steps() const {
  return config_.eval.every_steps > 0 ? config_.eval.every_steps : steps_per_epoch();
}

std::string FinetuneTask::best_model_dir() const { return (fs::path(config_.run.output_dir) / "best_model").string(); }

// Every rank predicts every world_size-th dev example; the logits are
// gathered so all ranks compute the same metrics (and the same decisions).
torch::Tensor FinetuneTask::dev_logits() {
  if (comm_.world_size() == 1) return predict_logits(model_, *dev_, config_.eval.batch_size, pad_id_, device_);
  Dataset part;  // this rank's share: the same file and task, every world_size-th example
  part.path = dev_->path;
  part.task = dev_->task;
  part.num_labels = dev_->num_labels;
  for (std::size_t k = static_cast<std::size_t>(comm_.rank()); k < dev_->examples.size();
       k += static_cast<std::size_t>(comm_.world_size()))
    part.examples.push_back(dev_->examples[k]);
  torch::Tensor logits;
  if (part.examples.empty()) {
    logits = torch::zeros({0, std::max<std::int64_t>(model_config_.num_labels, 1)});
  } else {
    logits = predict_logits(model_, part, config_.eval.batch_size, pad_id_, device_).to(torch::kCPU);
  }
  return train::gather_strided_rows(comm_, logits.to(torch::kFloat32).contiguous(), dev_->size());
}

std::map<std::string, double> FinetuneTask::evaluate() {
  if (!dev_) return {};
  auto result = evaluate_logits(*dev_, dev_logits(), labels_);
  ++evals_;
  const auto table = format_report(result.report);
  if (!table.empty()) spdlog::info("dev evaluation {} ({} examples):\n{}", evals_, dev_->size(), table);
  nlohmann::json record = result.report;
  record["eval"] = evals_;
  record["epoch"] = epochs_done();
  if (comm_.is_main()) {
    std::ofstream log((fs::path(config_.run.output_dir) / "evals.jsonl").string(), std::ios::app);
    log << record.dump() << "\n";
  }
  auto it = result.metrics.find(best_metric_);
  if (it == result.metrics.end()) return result.metrics;
  const double v = it->second;
  const bool improved = !best_ || (higher_is_better() ? v > *best_ : v < *best_);
  if (improved) {
    best_ = v;
    evals_since_best_ = 0;
    if (!comm_.is_main()) return result.metrics;
    const auto dir = best_model_dir();
    const auto tmp = dir + ".tmp";
    fs::remove_all(tmp);
    io::save_model_dir(tmp, *model_, model_config_, tokenizer_.get());
    fs::remove_all(dir);
    fs::rename(tmp, dir);
    spdlog::info("new best {} = {:.4f}: saved {}", best_metric_, v, dir);
  } else if (++evals_since_best_ >= config_.eval.patience && config_.eval.patience > 0) {
    spdlog::info("early stopping: {} evaluations without a better {} (best {:.4f})", evals_since_best_, best_metric_,
                 *best_);
    early_stopped_ = true;
  }
  return result.metrics;
}

}  // namespace bf::ft
