#pragma once
// What every fine-tuning task shares (sequence classification, token
// classification, question answering): the tokenizer, an encoder from
// model.init_from (or a fresh one), a fixed list of training examples whose
// batch order is a function of (seed, epoch) so the data cursor (epoch,
// batch) resumes exactly, and each step's global batch split over the ranks
// by stride, its loss normalised by the whole step's weight (examples,
// class-weighted examples or labelled tokens) so that accumulation and data
// parallelism equal one large batch.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/collective.h"
#include "finetune/batch_plan.h"
#include "finetune/finetune_config.h"
#include "finetune/tasks.h"
#include "infer/model.h"
#include "model/any_bert.h"
#include "model/bert_config.h"
#include "model/bert_model.h"
#include "model/init_weights.h"
#include "tokenizer/tokenizer.h"
#include "train/task.h"

namespace bf::ft {

class ExampleTask : public train::TrainingTask {
 public:
  const model::BertConfig& model_config() const override { return model_config_; }
  const tok::Tokenizer* tokenizer() const override { return tokenizer_.get(); }

  void begin_step(std::int64_t micro_batches) override;
  std::int64_t tokens_in_step() const override { return tokens_in_step_; }

  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  std::int64_t steps_per_epoch() const override;
  double epochs_done() const override;

  std::string best_metric() const override { return best_metric_; }
  bool higher_is_better() const override { return best_metric_ != "loss" && best_metric_ != "mse"; }
  // eval.every_steps, or once an epoch; never without a dev set.
  std::int64_t eval_interval() const override;

  std::int32_t pad_id() const { return pad_id_; }

  // The task's model as an inference model (infer/model.h: the same weights,
  // the task's config, tokenizer and head, nothing read), and what `evaluate`
  // reports for a model on the dev set this task read: the run's final
  // evaluation reads and windows nothing again.
  infer::Model inference_model();
  virtual ModelEvaluation evaluate_dev(infer::Model& model) = 0;
  std::int64_t training_examples() const { return static_cast<std::int64_t>(lengths_.size()); }

 protected:
  // Loads the tokenizer: model.tokenizer, else the one init_from carries
  // (checked against the hash it was saved with).
  ExampleTask(const FinetuneConfig& config, torch::Device device, dist::Collective& comm);

  // The model's config: init_from's, or the preset with the overrides sized
  // for the tokenizer; checked against the tokenizer and max_seq_length, and
  // naming the task's head (its HF class name in `architectures`).
  model::BertConfig encoder_config(model::Architecture head) const;
  // model_config_, validated, as a model whose initialisation is a function
  // of the run seed alone, with init_from's encoder copied into its `bert`
  // (the head stays new), on the task's device.
  template <class Net>
  Net make_model() const {
    model_config_.validate("model");
    seed_initialisation();
    Net net(model_config_);
    model::init_bert_weights(*net, model_config_);
    load_encoder(net->bert);
    net->to(device_);
    return net;
  }

  // Sets the training examples once they are known: their lengths (for the
  // token count and length grouping) and weights (empty: 1 each).
  void set_training_examples(std::vector<std::int64_t> lengths, std::vector<double> weights = {});
  // This rank's examples of micro-batch i of the current step (may be empty:
  // the last batch of an epoch can leave a rank without examples).
  const std::vector<std::int64_t>& step_examples(std::int64_t i) const { return step_examples_.at(static_cast<std::size_t>(i)); }
  // The step's total weight over every rank, divided by the world size: each
  // rank's loss sum over it is its share of one global mean.
  double step_weight() const { return std::max(step_weight_, 1e-12); }
  // A micro-batch that has no examples on this rank still takes part in the
  // step with a zero loss (zero gradients).
  train::MicroStep empty_micro_step(const std::vector<std::string>& sums) const;

  // Rows of `total` items split over ranks (rank r holds r, r+W, ...):
  // this rank's item indices, and the gathered rows in the original order.
  std::vector<std::int64_t> my_share(std::int64_t total) const;
  torch::Tensor gather_rows(const torch::Tensor& local, std::int64_t total);

  FinetuneConfig config_;
  torch::Device device_;
  dist::Collective& comm_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  std::int32_t pad_id_ = 0;
  model::BertConfig model_config_;
  std::int64_t evals_ = 0;

 private:
  void seed_initialisation() const;
  void load_encoder(model::BertModel& bert) const;
  std::vector<std::int64_t> next_batch();
  std::int64_t global_batch_size() const { return config_.training.batch_size * comm_.world_size(); }

  std::string init_dir_;                          // model.init_from resolved to a model directory
  std::optional<model::BertConfig> init_config_;  // its config.json; empty without init_from
  std::string best_metric_;
  std::vector<std::int64_t> lengths_;
  std::vector<double> weights_;
  PlanOptions plan_options_;
  std::int64_t epoch_ = 0, batch_ = 0;  // the cursor: next batch of the epoch plan
  std::int64_t planned_epoch_ = -1;
  BatchIndex plan_;
  std::vector<std::vector<std::int64_t>> step_examples_;
  double step_weight_ = 0;
  std::int64_t tokens_in_step_ = 0;
};

}  // namespace bf::ft
