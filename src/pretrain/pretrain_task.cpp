#include "pretrain/pretrain_task.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "io/hf_model.h"
#include "model/init_weights.h"
#include "train/rng_state.h"
#include "util/config_reader.h"
#include "util/error.h"

namespace bf::pretrain {
namespace fs = std::filesystem;

namespace {

// The pair head's metrics are named by the task it learns (nsp_acc, sop_acc):
// a plot of sentence-order accuracy must not pass for NSP's.
std::string pair_metric(const data::DataConfig& config, const std::string& what) {
  return data::pair_task_names().name(config.effective_pair_task()) + "_" + what;
}

}  // namespace

PretrainTask::PretrainTask(const PretrainConfig& config, torch::Device device, dist::Collective& comm,
                           PretrainReads reads)
    : config_(config), device_(device), comm_(comm) {
  const auto rank = comm.rank();
  const auto world_size = comm.world_size();
  tokenizer_ = reads.tokenizer ? std::move(reads.tokenizer) : tok::load_tokenizer(config.tokenizer);
  model_config_ = config.model.resolve(tokenizer_->vocab_size(), tokenizer_->special_ids().pad);
  if (config.data.max_seq_length > model_config_.max_position_embeddings)
    bf::fail("data.max_seq_length (" + std::to_string(config.data.max_seq_length) +
             ") exceeds model max_position_embeddings (" + std::to_string(model_config_.max_position_embeddings) + ")");
  model_ = initial_model();
  if (!config.model.init_from.empty()) spdlog::info("model.init_from {}", config.model.init_from);
  model_->to(device_);
  if (config.eval.probe.enabled()) {
    probe_data_ = reads.probe ? std::move(reads.probe) : ft::load_probe_data(config.eval.probe, *tokenizer_);
    spdlog::info("eval.probe: {} ({} training examples, {} classes), dev {} ({} examples), mode {}",
                 config.eval.probe.train, probe_data_->train.size(), probe_data_->label_names.size(),
                 config.eval.probe.dev, probe_data_->dev.size(), ft::probe_mode_names().name(config.eval.probe.mode));
  }

  auto options = data::LoaderOptions::from_config(config.data, config.training.batch_size,
                                                   static_cast<std::uint64_t>(config.run.seed), "train");
  options.rank = rank;
  options.world_size = world_size;
  options.tokenizer = data::TokenizerInfo::of(*tokenizer_, config.tokenizer);
  loader_ = std::make_unique<data::PretrainLoader>(options);

  eval_options_ = data::LoaderOptions::from_config(
      config.data, config.eval.batch_size > 0 ? config.eval.batch_size : config.training.batch_size,
      static_cast<std::uint64_t>(config.run.seed), "heldout");
  eval_options_.rank = rank;
  eval_options_.world_size = world_size;
  eval_options_.num_threads = 0;
  eval_options_.shuffle = false;
  eval_options_.tokenizer = options.tokenizer;
}

model::BertForPreTraining PretrainTask::initial_model() const {
  // The initialisation is a function of the run seed alone.
  torch::manual_seed(static_cast<std::uint64_t>(config_.run.seed));
  model::BertForPreTraining model(model_config_);
  model::init_bert_weights(*model, model_config_);
  if (!config_.model.init_from.empty()) {
    const auto report = io::load_weights(*model, io::find_weights_file(config_.model.init_from));
    spdlog::debug("model.init_from {}: {}", config_.model.init_from, report.summary());
  }
  return model;
}

nlohmann::json PretrainTask::data_state() const {
  auto state = loader_->cursor().to_json();
  state["evaluations"] = evaluations_;
  if (probe_reference_) {
    state["probe_random_init"] = probe_reference_->to_json();
    // eval.probe as YAML: a reference measured under other settings is not kept.
    state["probe_settings"] = config_to_yaml(config_.eval.probe);
  }
  return state;
}

model::PreTrainingInputs PretrainTask::to_inputs(const data::PretrainBatch& b) const {
  const bool non_blocking = device_.is_cuda();
  model::PreTrainingInputs in;
  in.input_ids = b.input_ids.to(device_, non_blocking);
  in.token_type_ids = b.token_type_ids.to(device_, non_blocking);
  in.attention_mask = b.attention_mask.to(device_, non_blocking);
  in.masked_positions = b.masked_positions.to(device_, non_blocking);
  in.masked_labels = b.masked_labels.to(device_, non_blocking);
  if (config_.data.effective_pair_task() != data::PairTask::None) {
    in.next_sentence_label = b.next_sentence_label.to(device_, non_blocking);
  }
  return in;
}

void PretrainTask::begin_step(std::int64_t micro_batches) {
  step_batches_.clear();
  std::vector<double> totals{0.0, 0.0};
  tokens_in_step_ = 0;
  for (std::int64_t i = 0; i < micro_batches; ++i) {
    step_batches_.push_back(loader_->next());
    totals[0] += static_cast<double>(step_batches_.back().num_masked());
    totals[1] += static_cast<double>(step_batches_.back().batch_size());
    tokens_in_step_ += step_batches_.back().input_ids.numel();
  }
  comm_.sum(totals);
  step_masked_ = totals[0];
  step_sequences_ = totals[1];
}

train::MicroStep PretrainTask::forward(std::int64_t i) {
  auto in = to_inputs(step_batches_.at(static_cast<std::size_t>(i)));
  // Each micro-batch's share of the step's mean: sum / (step total). Across
  // ranks, gradients are summed, so the total includes every rank's tokens.
  in.mlm_denominator = std::max(step_masked_, 1.0) / comm_.world_size();
  in.nsp_denominator = std::max(step_sequences_, 1.0) / comm_.world_size();
  auto out = model_->forward(in);
  train::MicroStep step;
  step.loss = out.loss;
  step.sums["mlm_loss_sum"] = out.mlm_loss_sum.defined() ? out.mlm_loss_sum.item<double>() : 0.0;
  step.sums["mlm_count"] = static_cast<double>(out.mlm_count);
  step.sums["mlm_correct"] = out.mlm_correct.defined() ? out.mlm_correct.item<double>() : 0.0;
  if (out.nsp_loss_sum.defined()) {
    step.sums["nsp_loss_sum"] = out.nsp_loss_sum.item<double>();
    step.sums["nsp_correct"] = out.nsp_correct.item<double>();
    step.sums["nsp_count"] = static_cast<double>(in.input_ids.size(0));
  }
  return step;
}

std::map<std::string, double> PretrainTask::step_metrics(const std::map<std::string, double>& sums) const {
  auto get = [&](const char* key) {
    auto it = sums.find(key);
    return it == sums.end() ? 0.0 : it->second;
  };
  std::map<std::string, double> m;
  const double masked = std::max(get("mlm_count"), 1.0);
  m["mlm_loss"] = get("mlm_loss_sum") / masked;
  m["mlm_acc"] = get("mlm_correct") / masked;
  if (sums.count("nsp_count")) {
    const double n = std::max(get("nsp_count"), 1.0);
    m[pair_metric(config_.data, "loss")] = get("nsp_loss_sum") / n;
    m[pair_metric(config_.data, "acc")] = get("nsp_correct") / n;
  }
  return m;
}

void PretrainTask::restore_data_state(const nlohmann::json& state) {
  loader_->restore(data::LoaderCursor::from_json(state));
  // Checkpoints from before the probe have neither: counted from here, measured when needed.
  evaluations_ = state.value("evaluations", std::int64_t{0});
  if (state.contains("probe_random_init") && state.value("probe_settings", "") == config_to_yaml(config_.eval.probe))
    probe_reference_ = ft::ProbeResult::from_json(state["probe_random_init"]);
}

std::int64_t PretrainTask::steps_per_epoch() const {
  return std::max<std::int64_t>(1, loader_->batches_per_epoch() / config_.training.grad_accum_steps);
}

double PretrainTask::epochs_done() const {
  const auto c = loader_->cursor();
  const double per_epoch = std::max<std::int64_t>(1, loader_->samples_per_epoch());
  return static_cast<double>(c.epoch) + static_cast<double>(c.position) / per_epoch;
}

train::Evaluation PretrainTask::evaluate() {
  train::Evaluation evaluation;
  evaluation.metrics = heldout_metrics();
  const bool probe_now = probe_data_ && evaluations_ % config_.eval.probe.every_evals == 0;
  ++evaluations_;
  if (probe_now) {
    for (const auto& [key, value] : probe_metrics()) evaluation.metrics[key] = value;
  }
  return evaluation;
}

std::map<std::string, double> PretrainTask::probe_metrics() {
  const auto& section = config_.eval.probe;
  if (!probe_reference_) {
    // Rebuilt rather than kept: a second model in memory for the whole run
    // would cost more than building it once. The guard keeps the run's draws.
    train::RngStateGuard keep_draws;
    auto step0 = initial_model();
    step0->to(device_);
    probe_reference_ = ft::run_probe(step0->bert, *probe_data_, section, device_);
    spdlog::info("probe of the step-0 weights (random-init reference): dev accuracy {:.2f} %, macro-F1 {:.4f}, {:.1f} s",
                 100 * probe_reference_->accuracy, probe_reference_->macro_f1, probe_reference_->seconds);
  }
  const auto probe = ft::run_probe(model_->bert, *probe_data_, section, device_);
  spdlog::info("probe ({}, {} training examples): dev accuracy {:.2f} % (random init {:.2f} %), macro-F1 {:.4f} "
               "(random init {:.4f}), {:.1f} s",
               ft::probe_mode_names().name(section.mode), probe.train_examples, 100 * probe.accuracy,
               100 * probe_reference_->accuracy, probe.macro_f1, probe_reference_->macro_f1, probe.seconds);
  return {{"probe_accuracy", probe.accuracy},
          {"probe_macro_f1", probe.macro_f1},
          {"probe_accuracy_random_init", probe_reference_->accuracy},
          {"probe_macro_f1_random_init", probe_reference_->macro_f1},
          {"probe_seconds", probe.seconds}};
}

std::map<std::string, double> PretrainTask::heldout_metrics() {
  std::map<std::string, double> result;
  std::unique_ptr<data::PretrainLoader> loader;
  try {
    loader = std::make_unique<data::PretrainLoader>(eval_options_);
  } catch (const bf::Error& e) {
    spdlog::warn("eval skipped: {}", e.what());
    return result;
  }
  const auto batches = std::min(config_.eval.max_batches, loader->batches_per_epoch());
  if (batches <= 0) {
    spdlog::warn("eval skipped: the held-out split has fewer sequences than one batch");
    return result;
  }
  c10::InferenceMode inference;  // no autograd records, no version counters
  double mlm_sum = 0, mlm_count = 0, mlm_correct = 0, nsp_sum = 0, nsp_count = 0, nsp_correct = 0;
  for (std::int64_t i = 0; i < batches; ++i) {
    auto in = to_inputs(loader->next());
    auto out = model_->forward(in);
    mlm_sum += out.mlm_loss_sum.item<double>();
    mlm_count += static_cast<double>(out.mlm_count);
    mlm_correct += out.mlm_correct.item<double>();
    if (out.nsp_loss_sum.defined()) {
      nsp_sum += out.nsp_loss_sum.item<double>();
      nsp_correct += out.nsp_correct.item<double>();
      nsp_count += static_cast<double>(in.input_ids.size(0));
    }
  }
  std::vector<double> totals{mlm_sum, mlm_count, mlm_correct, nsp_sum, nsp_count, nsp_correct};
  comm_.sum(totals);
  result["mlm_loss"] = totals[0] / std::max(totals[1], 1.0);
  result["mlm_acc"] = totals[2] / std::max(totals[1], 1.0);
  result["perplexity"] = std::exp(result["mlm_loss"]);
  result["loss"] = result["mlm_loss"];
  if (totals[4] > 0) {
    result[pair_metric(config_.data, "loss")] = totals[3] / totals[4];
    result[pair_metric(config_.data, "acc")] = totals[5] / totals[4];
    result["loss"] += totals[3] / totals[4];
  }
  return result;
}

}  // namespace bf::pretrain
