#include "finetune/finetune_run.h"

#include <filesystem>
#include <memory>
#include <utility>

#include "finetune/example_task.h"
#include "finetune/finetune_config.h"
#include "finetune/tasks.h"
#include "io/hf_model.h"
#include "train/run.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::ft {
namespace fs = std::filesystem;
namespace {

// The best evaluation's weights into the task's model: from the trainer's
// copy in memory, or, when the best came before a resume, from best_model/.
void restore_best(torch::nn::Module& module, const train::TrainResult& result) {
  if (!result.best_weights.empty()) {
    torch::NoGradGuard no_grad;
    auto params = module.named_parameters();
    auto buffers = module.named_buffers();
    for (const auto& [name, weight] : result.best_weights) {
      auto* target = params.find(name);
      if (target == nullptr) target = buffers.find(name);
      if (target == nullptr) bf::fail("the best weights name " + name + ", which the model lacks");
      target->copy_(weight);
    }
    return;
  }
  if (result.best_model_dir.empty()) return;
  const auto report = io::load_weights(module, io::find_weights_file(result.best_model_dir));
  if (!report.missing.empty()) bf::fail(result.best_model_dir + ": weights do not match the model: " + report.summary());
}

// The chosen model on the dev and test files, from memory: the task's model,
// tokenizer and dev examples (read and windowed once, for training), with the
// best evaluation's weights.
std::vector<FinalEvaluation> evaluate_chosen(const FinetuneConfig& config, const TaskEntry& entry, ExampleTask& task,
                                             const train::TrainResult& result) {
  auto model = task.inference_model();
  restore_best(model.module(), result);
  InputSettings settings;
  settings.format = config.data.format;
  settings.batch_size = config.eval.batch_size;
  settings.skip_bad_rows = config.data.on_bad_row == OnBadRow::Skip;
  std::vector<FinalEvaluation> out;
  for (const auto& [split, path] : {std::pair<std::string, std::string>{"dev", config.data.dev}, {"test", config.data.test}}) {
    if (path.empty()) continue;
    FinalEvaluation e{split, path, (fs::path(config.run.output_dir) / ("eval_" + split + ".json")).string(), {}, ""};
    auto evaluation = split == "dev" ? task.evaluate_dev(model) : entry.evaluate(model, path, settings);
    e.report = std::move(evaluation.report);
    e.table = std::move(evaluation.table);
    bf::write_file_atomic(e.saved, e.report.dump(2) + "\n");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

FinetuneOutcome run_finetuning(const FinetuneRequest& request, const dist::DistEnv& env) {
  const auto config = load_finetune_config(request.config_file, request.overrides);
  train::RunSettings settings;
  settings.command = "finetune";
  settings.config_file = request.config_file;
  settings.trainer = {config.run,        config.optimizer, config.schedule,       config.training,
                      config.checkpoint, config.logging,   config_to_yaml(config)};
  settings.trainer.patience = config.eval.patience;
  settings.trainer.save_best_model = true;
  settings.distributed = config.distributed;
  settings.resume = request.resume;
  settings.allow_config_change = request.allow_config_change;
  settings.input_problems = check_finetune_paths(config);

  const auto& task = task_entry(config.task());
  auto run = train::run(settings, env,
                        [&](const train::RunContext& ctx) { return task.train(config, ctx.device, ctx.comm); });
  FinetuneOutcome out;
  out.is_main = run.is_main;
  out.result = run.result;
  out.epochs = run.task->epochs_done();
  out.best_metric = run.task->best_metric();
  out.report = (fs::path(config.run.output_dir) / "report.html").string();
  if (!out.is_main || !train::finished(out.result.stopped_by)) return out;
  out.chosen_model = !out.result.best_model_dir.empty() ? out.result.best_model_dir : out.result.model_dir;
  out.evaluations = evaluate_chosen(config, task, dynamic_cast<ExampleTask&>(*run.task), out.result);
  return out;
}

}  // namespace bf::ft
