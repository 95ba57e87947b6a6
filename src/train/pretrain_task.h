#pragma once
// Pretraining as a TrainingTask: BertForPreTraining on masked sentence-pair
// batches from the shard loader, MLM loss normalised by the masked tokens of
// the whole step (every micro-batch, every rank) so accumulation equals one
// large batch.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "data/pretrain_loader.h"
#include "model/bert_for_pretraining.h"
#include "tokenizer/tokenizer.h"
#include "train/task.h"
#include "train/train_config.h"

namespace bf::train {

// Sums a step's statistics over ranks; identity in a single process.
using AllReduceSum = std::function<void(std::vector<double>&)>;

class PretrainTask : public TrainingTask {
 public:
  PretrainTask(const PretrainConfig& config, torch::Device device, std::int32_t rank = 0, std::int32_t world_size = 1,
               AllReduceSum all_reduce = {});

  torch::nn::Module& model() override { return *model_; }
  const model::BertConfig& model_config() const override { return model_config_; }
  const tok::Tokenizer* tokenizer() const override { return tokenizer_.get(); }
  model::BertForPreTraining& bert() { return model_; }

  void begin_step(std::int64_t micro_batches) override;
  MicroStep forward(std::int64_t micro_batch) override;
  std::map<std::string, double> step_metrics(const std::map<std::string, double>& sums) const override;
  std::int64_t tokens_in_step() const override { return tokens_in_step_; }

  nlohmann::json data_state() const override { return loader_->cursor().to_json(); }
  void restore_data_state(const nlohmann::json& state) override;
  std::int64_t steps_per_epoch() const override;
  double epochs_done() const override;

  std::map<std::string, double> evaluate() override;

 private:
  model::PreTrainingInputs to_inputs(const data::PretrainBatch& batch) const;

  PretrainConfig config_;
  torch::Device device_;
  std::int32_t world_size_;
  AllReduceSum all_reduce_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  model::BertConfig model_config_;
  model::BertForPreTraining model_{nullptr};
  std::unique_ptr<data::PretrainLoader> loader_;
  data::LoaderOptions eval_options_;
  std::vector<data::PretrainBatch> step_batches_;
  double step_masked_ = 0;
  double step_sequences_ = 0;
  std::int64_t tokens_in_step_ = 0;
};

// Builds (or confirms up to date) the shards the config's data section names.
void ensure_pretraining_data(const PretrainConfig& config, const tok::Tokenizer& tokenizer);

// What the config's files hold that would fail the run later, checked before
// any work given the run's tokenizer: shards in data.output built with another
// tokenizer (never silently rebuilt over), a model.init_from of another size.
// Empty when fine.
std::vector<std::string> check_pretrain_inputs(const PretrainConfig& config, const tok::Tokenizer& tokenizer);

// How the model in `dir` (a model directory or checkpoint, its config.json)
// differs in shape from `expected`: "" when it matches, else one
// "\n  key: theirs (there) vs ours (this config)" per difference.
std::string model_shape_differences(const std::string& dir, const model::BertConfig& expected);

}  // namespace bf::train
