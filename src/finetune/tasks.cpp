#include "finetune/tasks.h"

#include "finetune/classify/classify_task.h"
#include "finetune/classify/classify_files.h"
#include "finetune/qa/qa_files.h"
#include "finetune/qa/qa_task.h"
#include "finetune/tagging/tagging_files.h"
#include "finetune/tagging/tagging_task.h"
#include "util/error.h"

namespace bf::ft {
namespace {

template <class Task>
std::unique_ptr<train::TrainingTask> make(const FinetuneConfig& config, torch::Device device, dist::Collective& comm) {
  return std::make_unique<Task>(config, device, comm);
}

// One row per head. A new head: its folder (task, reader, metrics, writer,
// evaluate and predict) and one row here.
const TaskEntry kTasks[] = {
    {model::Architecture::SequenceClassification,
     {TaskType::SingleLabel, TaskType::MultiLabel, TaskType::Regression},
     make<classify::ClassifyTask>, classify::evaluate_model, classify::predict_model},
    {model::Architecture::TokenClassification,
     {TaskType::TokenClassification},
     make<tagging::TaggingTask>, tagging::evaluate_model, tagging::predict_model},
    {model::Architecture::QuestionAnswering,
     {TaskType::QuestionAnswering},
     make<qa::QaTask>, qa::evaluate_model, qa::predict_model},
};

}  // namespace

const TaskEntry& task_entry(TaskType task) {
  for (const auto& entry : kTasks)
    for (auto t : entry.tasks)
      if (t == task) return entry;
  bf::fail("data.task " + task_name(task) + " has no fine-tuning task");
}

const TaskEntry& task_entry(model::Architecture head, const std::string& dir) {
  for (const auto& entry : kTasks)
    if (entry.head == head) return entry;
  bf::fail(dir + ": not a fine-tuned model (config.json architectures: " + model::architecture_name(head) +
           "); fine-tune it first with bertforge finetune");
}

ModelEvaluation evaluate_model_dir(const std::string& model_dir, const std::string& data, const InputSettings& settings,
                                   torch::Device device) {
  auto model = infer::Model::open(model_dir, device);
  return task_entry(model.architecture(), model_dir).evaluate(model, data, settings);
}

PredictSummary predict_model_dir(const std::string& model_dir, const std::string& input, const std::string& output,
                                 const InputSettings& settings, torch::Device device) {
  auto model = infer::Model::open(model_dir, device);
  return task_entry(model.architecture(), model_dir).predict(model, input, output, settings);
}

std::map<std::string, double> headline_metrics(const nlohmann::json& report) {
  std::map<std::string, double> out;
  for (const auto& [key, value] : report.items())
    if (value.is_number() && key != "examples" && key != "skipped_rows") out[key] = value.get<double>();
  return out;
}

}  // namespace bf::ft
