#pragma once
// What the trainer needs from a task (pretraining, fine-tuning): the model,
// its batches, the loss of a micro-batch normalised for the whole step, the
// data position to checkpoint, and an evaluation. One trainer serves both.
#include <torch/torch.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "model/bert_config.h"

namespace bf::tok {
class Tokenizer;
}

namespace bf::train {

// An evaluation: the scalar metrics (into metrics.jsonl, the log, best-model
// choice) and, optionally, the full report (per-class tables, confusion
// matrix) that the trainer appends to evals.jsonl.
struct Evaluation {
  std::map<std::string, double> metrics;
  nlohmann::json report;  // null: nothing for evals.jsonl
};

struct MicroStep {
  torch::Tensor loss;                     // already divided by the step's totals: just backward() it
  std::map<std::string, double> sums;     // additive statistics (loss sums, counts, correct predictions)
};

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;

  virtual torch::nn::Module& model() = 0;
  virtual const model::BertConfig& model_config() const = 0;
  virtual const tok::Tokenizer* tokenizer() const = 0;

  // Takes the micro-batches of the next optimizer step from the data and
  // works out the step's totals (e.g. masked tokens) so each micro-batch's
  // loss can be normalised by them.
  virtual void begin_step(std::int64_t micro_batches) = 0;
  virtual MicroStep forward(std::int64_t micro_batch) = 0;
  // Step metrics from the summed statistics of its micro-batches.
  virtual std::map<std::string, double> step_metrics(const std::map<std::string, double>& sums) const = 0;
  virtual std::int64_t tokens_in_step() const = 0;

  virtual nlohmann::json data_state() const = 0;
  virtual void restore_data_state(const nlohmann::json& state) = 0;
  virtual std::int64_t steps_per_epoch() const = 0;
  virtual double epochs_done() const = 0;

  // Metrics on held-out data; "loss" decides the best checkpoint (and
  // best_model/, early stopping) unless the task names another metric.
  virtual Evaluation evaluate() = 0;
  virtual std::string best_metric() const { return "loss"; }
  virtual bool higher_is_better() const { return false; }
  // Steps between evaluations (0 = only at the end), from the task's own
  // eval settings: a fine-tuning task may evaluate once an epoch, or never
  // without a dev set.
  virtual std::int64_t eval_interval() const = 0;
};

}  // namespace bf::train
