#pragma once
// Pretraining as a TrainingTask: BertForPreTraining on masked sentence-pair
// batches from the shard loader, MLM loss normalised by the masked tokens of
// the whole step (every micro-batch, every rank) so accumulation equals one
// large batch.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "data/pretrain_loader.h"
#include "finetune/probe/probe.h"
#include "model/bert_for_pretraining.h"
#include "dist/collective.h"
#include "pretrain/pretrain_config.h"
#include "tokenizer/tokenizer.h"
#include "train/task.h"

namespace bf::pretrain {

// What the run read before building the task (the tokenizer, eval.probe's
// files while checking the inputs), handed over so that nothing is read
// twice; the task reads what is missing itself.
struct PretrainReads {
  std::unique_ptr<tok::Tokenizer> tokenizer;
  std::optional<ft::ProbeData> probe;
};

class PretrainTask : public train::TrainingTask {
 public:
  // Rank r of comm reads every world_size-th batch of the shards; the step's
  // totals (masked tokens, sequences) are summed over all ranks.
  PretrainTask(const PretrainConfig& config, torch::Device device, dist::Collective& comm = dist::single_process(),
               PretrainReads reads = {});

  torch::nn::Module& model() override { return *model_; }
  const model::BertConfig& model_config() const override { return model_config_; }
  const tok::Tokenizer* tokenizer() const override { return tokenizer_.get(); }
  model::BertForPreTraining& bert() { return model_; }

  void begin_step(std::int64_t micro_batches) override;
  train::MicroStep forward(std::int64_t micro_batch) override;
  std::map<std::string, double> step_metrics(const std::map<std::string, double>& sums) const override;
  std::int64_t tokens_in_step() const override { return tokens_in_step_; }

  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  std::int64_t steps_per_epoch() const override;
  std::int64_t eval_interval() const override { return config_.eval.every_steps; }
  double epochs_done() const override;

  train::Evaluation evaluate() override;

 private:
  // The weights of step 0: a function of the run seed and model.init_from alone.
  model::BertForPreTraining initial_model() const;
  std::map<std::string, double> heldout_metrics();
  // eval.probe of the current weights, with the random-init reference (the
  // same probe of the step-0 weights, measured once and checkpointed).
  std::map<std::string, double> probe_metrics();
  model::PreTrainingInputs to_inputs(const data::PretrainBatch& batch) const;

  PretrainConfig config_;
  torch::Device device_;
  dist::Collective& comm_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  model::BertConfig model_config_;
  model::BertForPreTraining model_{nullptr};
  std::unique_ptr<data::PretrainLoader> loader_;
  data::LoaderOptions eval_options_;
  std::vector<data::PretrainBatch> step_batches_;
  double step_masked_ = 0;
  double step_sequences_ = 0;
  std::int64_t tokens_in_step_ = 0;
  std::optional<ft::ProbeData> probe_data_;
  std::optional<ft::ProbeResult> probe_reference_;
  std::int64_t evaluations_ = 0;  // decides which evaluations probe (eval.probe.every_evals)
};

}  // namespace bf::pretrain
