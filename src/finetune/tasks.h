#pragma once
// The fine-tuning tasks, one row each in tasks.cpp: the head they train
// (model::Architecture, whose HF class name config.json records), the
// data.task values they serve, the training task, evaluate and predict for a
// model of that head, and its typed requests (what a server answers). A
// task's code lives in its folder (classify/, tagging/, qa/); this table is
// the only place that lists them.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "dist/collective.h"
#include "finetune/labels.h"
#include "finetune/request_inputs.h"
#include "infer/job.h"
#include "infer/model.h"
#include "model/any_bert.h"
#include "train/task.h"

namespace bf::ft {

struct FinetuneConfig;

// How evaluate and predict read their files; empty or 0: as the model was
// trained (config.json's bertforge_data).
struct InputSettings {
  std::string format = "auto";
  std::string text_column;          // classification: empty: as trained (default "text")
  std::string text_pair_column;     // classification: empty: as trained
  std::string label_column;         // classification: empty: as trained (default "label")
  std::int64_t max_seq_length = 0;  // classification: 0: as trained (default 128)
  std::int64_t batch_size = 64;
  bool skip_bad_rows = false;
  infer::Precision precision = infer::Precision::Fp32;  // the forward's arithmetic (Model::set_precision)
};

struct ModelEvaluation {
  nlohmann::json report;  // metrics and counts, as evaluate --output writes them
  std::string table;      // per-class or per-type table, "" when none
};

struct PredictSummary {
  std::int64_t rows = 0;
  std::int64_t skipped = 0;
};

struct TaskEntry {
  infer::Head head;             // the network: its model::Architecture, how it is built and run
  // The data.task values it trains, each with the metrics eval.metric may
  // name (besides "loss"); the first is the default.
  std::vector<std::pair<TaskType, std::vector<std::string>>> tasks;
  std::unique_ptr<train::TrainingTask> (*train)(const FinetuneConfig& config, torch::Device device,
                                                dist::Collective& comm);
  ModelEvaluation (*evaluate)(infer::Model& model, const std::string& path, const InputSettings& settings);
  // Classification: a row per input row; token classification: the input with
  // the predicted tags; QA: {id: answer} at `output` and the n-best lists in
  // nbest_predictions.json beside it.
  PredictSummary (*predict)(infer::Model& model, const std::string& input, const std::string& output,
                            const InputSettings& settings);
  // A typed request from its HTTP body (the TEI / HF Inference API shape of
  // the head), read and tokenized on the caller's thread; a client's mistake
  // is an infer::RequestError naming the field. The job's answer is the
  // response's JSON.
  infer::Job<nlohmann::json> (*request)(infer::Model& model, const nlohmann::json& body, const RequestLimits& limits);
};

const TaskEntry& task_entry(TaskType task);
// The metrics eval.metric may name for `task`, the default first.
const std::vector<std::string>& task_metrics(TaskType task);
// The entry of a model's head; a model without one (pretraining, a bare
// encoder) is an error naming `dir`.
const TaskEntry& task_entry(model::Architecture head, const std::string& dir);

// A fine-tuned model directory, opened once as its head.
infer::Model open_model(const std::string& model_dir, torch::Device device = torch::kCPU);

// evaluate and predict of a model directory, by the head its config.json names.
ModelEvaluation evaluate_model_dir(const std::string& model_dir, const std::string& data, const InputSettings& settings,
                                   torch::Device device);
// The typed request of a model's head (its task_entry's `request`).
infer::Job<nlohmann::json> model_request(infer::Model& model, const nlohmann::json& body,
                                         const RequestLimits& limits = {});

PredictSummary predict_model_dir(const std::string& model_dir, const std::string& input, const std::string& output,
                                 const InputSettings& settings, torch::Device device);

// The top-level numbers of an evaluation report (counts left out).
std::map<std::string, double> headline_metrics(const nlohmann::json& report);

}  // namespace bf::ft
