#include "finetune/tasks.h"

#include "finetune/classify/classify_task.h"
#include "finetune/classify/classify_files.h"
#include "finetune/classify/classify_requests.h"
#include "finetune/qa/qa_files.h"
#include "finetune/qa/qa_requests.h"
#include "finetune/qa/qa_task.h"
#include "finetune/tagging/tag_requests.h"
#include "finetune/tagging/tagging_files.h"
#include "finetune/tagging/tagging_task.h"
#include "model/bert_for_question_answering.h"
#include "model/bert_for_sequence_classification.h"
#include "model/bert_for_token_classification.h"
#include "util/error.h"

namespace bf::ft {
namespace {

template <class Task>
std::unique_ptr<train::TrainingTask> make(const FinetuneConfig& config, torch::Device device, dist::Collective& comm) {
  return std::make_unique<Task>(config, device, comm);
}

// One row per head. A new head: its folder (task, reader, metrics, writer,
// evaluate, predict and typed requests) and one row here.
const std::vector<TaskEntry>& tasks() {
  using model::Architecture;
  static const std::vector<TaskEntry> table = {
      {infer::logits_head<model::BertForSequenceClassification>(Architecture::SequenceClassification),
       {{TaskType::SingleLabel, {"accuracy", "macro_f1", "f1", "mcc"}},
        {TaskType::MultiLabel, {"micro_f1", "exact_match", "macro_f1"}},
        {TaskType::Regression, {"pearson", "spearman", "mse"}}},
       make<classify::ClassifyTask>, classify::evaluate_model, classify::predict_model, classify::classify_request},
      {infer::logits_head<model::BertForTokenClassification>(Architecture::TokenClassification),
       {{TaskType::TokenClassification, {"f1", "precision", "recall", "accuracy"}}},
       make<tagging::TaggingTask>, tagging::evaluate_model, tagging::predict_model, tagging::tag_request},
      {infer::span_head<model::BertForQuestionAnswering>(Architecture::QuestionAnswering),
       {{TaskType::QuestionAnswering, {"f1", "exact_match"}}},
       make<qa::QaTask>, qa::evaluate_model, qa::predict_model, qa::qa_request},
  };
  return table;
}

}  // namespace

const TaskEntry& task_entry(TaskType task) {
  for (const auto& entry : tasks())
    for (const auto& served : entry.tasks)
      if (served.first == task) return entry;
  bf::fail("data.task " + task_name(task) + " has no fine-tuning task");
}

const std::vector<std::string>& task_metrics(TaskType task) {
  for (const auto& served : task_entry(task).tasks)
    if (served.first == task) return served.second;
  bf::fail("data.task " + task_name(task) + " has no fine-tuning task");
}

const TaskEntry& task_entry(model::Architecture head, const std::string& dir) {
  for (const auto& entry : tasks())
    if (entry.head.architecture == head) return entry;
  bf::fail(dir + ": not a fine-tuned model (config.json architectures: " + model::architecture_name(head) +
           "); fine-tune it first with bertforge finetune");
}

infer::Model open_model(const std::string& model_dir, torch::Device device) {
  return infer::Model::open(
      model_dir, [](model::Architecture head, const std::string& dir) { return task_entry(head, dir).head; }, device);
}

ModelEvaluation evaluate_model_dir(const std::string& model_dir, const std::string& data, const InputSettings& settings,
                                   torch::Device device) {
  auto model = open_model(model_dir, device);
  model.set_precision(settings.precision);
  return task_entry(model.architecture(), model_dir).evaluate(model, data, settings);
}

infer::Job<nlohmann::json> model_request(infer::Model& model, const nlohmann::json& body, const RequestLimits& limits) {
  return task_entry(model.architecture(), model.dir()).request(model, body, limits);
}

PredictSummary predict_model_dir(const std::string& model_dir, const std::string& input, const std::string& output,
                                 const InputSettings& settings, torch::Device device) {
  auto model = open_model(model_dir, device);
  model.set_precision(settings.precision);
  return task_entry(model.architecture(), model_dir).predict(model, input, output, settings);
}

std::map<std::string, double> headline_metrics(const nlohmann::json& report) {
  std::map<std::string, double> out;
  for (const auto& [key, value] : report.items())
    if (value.is_number() && key != "examples" && key != "skipped_rows") out[key] = value.get<double>();
  return out;
}

}  // namespace bf::ft
