#include "finetune/example_task.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "io/hf_model.h"
#include "util/error.h"

namespace bf::ft {

ExampleTask::ExampleTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm)
    : config_(config), device_(device), comm_(comm), best_metric_(config.best_metric()) {
  // init_from resolved (a run's latest checkpoint may move on) and its
  // config read once, here.
  if (!config.model.arch.init_from.empty()) {
    init_dir_ = resolve_model_dir(config.model.arch.init_from);
    init_config_ = io::load_model_config(init_dir_);
  }
  if (!config.model.tokenizer.empty()) {
    tokenizer_ = tok::load_tokenizer(config.model.tokenizer);
  } else {
    if (!init_config_) bf::fail("model.tokenizer: required when model.init_from is empty (a model trained from scratch)");
    tokenizer_ = io::load_model_tokenizer(init_dir_, *init_config_);
  }
  pad_id_ = tokenizer_->special_ids().pad;
  plan_options_.batch_size = global_batch_size();
  plan_options_.shuffle = config.data.shuffle;
  plan_options_.group_by_length = config.data.group_by_length;
}

model::BertConfig ExampleTask::encoder_config(model::Architecture head) const {
  const auto& arch = config_.model.arch;
  auto c = init_config_ ? *init_config_ : arch.resolve(tokenizer_->vocab_size(), pad_id_);
  if (c.vocab_size != tokenizer_->vocab_size())
    bf::fail("model.tokenizer has " + std::to_string(tokenizer_->vocab_size()) + " tokens but the model's vocab_size is " +
             std::to_string(c.vocab_size));
  if (config_.data.max_seq_length > c.max_position_embeddings)
    bf::fail("data.max_seq_length (" + std::to_string(config_.data.max_seq_length) +
             ") exceeds the model's max_position_embeddings (" + std::to_string(c.max_position_embeddings) + ")");
  c.architectures = {model::architecture_name(head)};
  if (config_.model.classifier_dropout) c.classifier_dropout = config_.model.classifier_dropout;
  return c;
}

infer::Model ExampleTask::inference_model() {
  const std::shared_ptr<const tok::Tokenizer> tokenizer(std::shared_ptr<void>(), tokenizer_.get());
  return infer::Model(model_config_, tokenizer, task_entry(config_.task()).head, model().shared_from_this(), device_);
}

void ExampleTask::seed_initialisation() const { torch::manual_seed(static_cast<std::uint64_t>(config_.run.seed)); }

void ExampleTask::load_encoder(model::BertModel& bert) const {
  if (!init_config_) {
    spdlog::info("model: {} layers, hidden {}, random initialisation (no init_from)", model_config_.num_hidden_layers,
                 model_config_.hidden_size);
    return;
  }
  // Only the encoder (and its pooler) comes from the checkpoint: the head is new.
  const auto report = io::load_weights(*bert, io::find_weights_file(init_dir_));
  if (report.loaded.empty()) bf::fail(init_dir_ + ": no encoder weights matched: " + report.summary());
  spdlog::info("model.init_from {}: {}", init_dir_, report.summary());
}

void ExampleTask::set_training_examples(std::vector<std::int64_t> lengths, std::vector<double> weights) {
  lengths_ = std::move(lengths);
  weights_ = std::move(weights);
}

std::vector<std::int64_t> ExampleTask::next_batch() {
  if (planned_epoch_ != epoch_) {
    plan_ = plan_epoch(lengths_, plan_options_, static_cast<std::uint64_t>(config_.run.seed), epoch_);
    planned_epoch_ = epoch_;
  }
  auto index = plan_.at(static_cast<std::size_t>(batch_));
  if (++batch_ == static_cast<std::int64_t>(plan_.size())) {
    batch_ = 0;
    ++epoch_;
  }
  return index;
}

void ExampleTask::begin_step(std::int64_t micro_batches) {
  step_examples_.clear();
  step_weight_ = 0;
  tokens_in_step_ = 0;
  const auto world = static_cast<std::size_t>(comm_.world_size());
  const auto rank = static_cast<std::size_t>(comm_.rank());
  for (std::int64_t i = 0; i < micro_batches; ++i) {
    const auto global = next_batch();
    // The step's weight counts every rank's examples: each rank's loss is
    // then its share of one global mean (see dist::GradientReducer).
    for (auto e : global) step_weight_ += weights_.empty() ? 1.0 : weights_[static_cast<std::size_t>(e)];
    std::vector<std::int64_t> mine;
    for (std::size_t k = rank; k < global.size(); k += world) {
      mine.push_back(global[k]);
      tokens_in_step_ += lengths_[static_cast<std::size_t>(global[k])];
    }
    step_examples_.push_back(std::move(mine));
  }
  step_weight_ /= static_cast<double>(world);
}

train::MicroStep ExampleTask::empty_micro_step(const std::vector<std::string>& sums) const {
  train::MicroStep none;
  none.loss = torch::zeros({}, torch::TensorOptions(device_)).requires_grad_();
  for (const auto& name : sums) none.sums[name] = 0.0;
  return none;
}

nlohmann::json ExampleTask::data_state() const { return {{"epoch", epoch_}, {"batch", batch_}, {"evals", evals_}}; }

void ExampleTask::restore_data_state(const nlohmann::json& state) {
  epoch_ = state.at("epoch").get<std::int64_t>();
  batch_ = state.at("batch").get<std::int64_t>();
  evals_ = state.value("evals", std::int64_t{0});
  planned_epoch_ = -1;
  if (batch_ >= batches_per_epoch(training_examples(), global_batch_size()))
    bf::fail("resume: the data cursor (batch " + std::to_string(batch_) + ") is past the end of " + config_.data.train +
             " (did the training file change?)");
}

std::int64_t ExampleTask::steps_per_epoch() const {
  return std::max<std::int64_t>(1, batches_per_epoch(training_examples(), global_batch_size()) /
                                       config_.training.grad_accum_steps);
}

double ExampleTask::epochs_done() const {
  const auto per_epoch = batches_per_epoch(training_examples(), global_batch_size());
  return static_cast<double>(epoch_) + static_cast<double>(batch_) / static_cast<double>(per_epoch);
}

std::int64_t ExampleTask::eval_interval() const {
  if (config_.data.dev.empty()) return 0;
  return config_.eval.every_steps > 0 ? config_.eval.every_steps : steps_per_epoch();
}

std::vector<std::int64_t> ExampleTask::my_share(std::int64_t total) const {
  std::vector<std::int64_t> out;
  for (std::int64_t k = comm_.rank(); k < total; k += comm_.world_size()) out.push_back(k);
  return out;
}

torch::Tensor ExampleTask::gather_rows(const torch::Tensor& local, std::int64_t total) {
  return dist::gather_strided_rows(comm_, local.to(torch::kCPU).contiguous(), total);
}

}  // namespace bf::ft
