// bertforge finetune | evaluate | predict | embed
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/run_setup.h"
#include "finetune/finetune_task.h"
#include "finetune/inference.h"
#include "finetune/metrics.h"
#include "train/checkpoint.h"
#include "train/precision.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/runtime.h"

namespace bf::cli {
namespace {
namespace fs = std::filesystem;

struct FinetuneOptions {
  std::string config;
  std::vector<std::string> overrides;
  std::string resume;
  bool allow_config_change = false;
};

void print_metrics(const std::string& title, const nlohmann::json& report) {
  std::printf("%s\n", title.c_str());
  for (const auto& [k, v] : ft::headline_metrics(report)) std::printf("  %s = %.4f\n", k.c_str(), v);
  const auto table = ft::format_report(report);
  if (!table.empty()) std::printf("%s", table.c_str());
}

// The chosen model on the dev and test files, printed and saved as JSON next to it.
void final_evaluation(const ft::FinetuneConfig& config, const std::string& model_dir, torch::Device device) {
  auto classifier = ft::load_classifier(model_dir, device);
  ft::InputSettings settings;
  settings.format = config.data.format;
  settings.batch_size = config.eval.batch_size;
  settings.skip_bad_rows = config.data.on_bad_row == "skip";
  for (const auto& [name, path] : {std::pair<std::string, std::string>{"dev", config.data.dev}, {"test", config.data.test}}) {
    if (path.empty()) continue;
    const auto result = ft::evaluate_file(classifier, path, settings, device);
    const auto out = (fs::path(config.run.output_dir) / ("eval_" + name + ".json")).string();
    bf::write_file_atomic(out, result.report.dump(2) + "\n");
    print_metrics(name + " (" + path + ", " + std::to_string(result.report["examples"].get<std::int64_t>()) +
                      " examples) with " + model_dir + ":",
                  result.report);
  }
}

void run_finetune(const FinetuneOptions& o) {
  auto config = ft::load_finetune_config(o.config, o.overrides);
  const std::string resolved = config_to_yaml(config);
  const auto device_asked = train::resolve_device(config.run.device);
  const auto env = dist::DistEnv::from_environment();
  const auto checkpoint_dir = start_run({"finetune", o.config, ft::check_finetune_paths(config), resolved,
                                         config.run.output_dir, o.resume, o.allow_config_change,
                                         config.logging.level, static_cast<int>(config.run.threads),
                                         device_asked.str(), env});
  auto dp = join_data_parallel(env, config.distributed, device_asked);
  const auto device = dp.device;

  ft::FinetuneTask task(config, device, dp.comm.get());
  train::EvalSection eval;
  eval.every_steps = config.data.dev.empty() ? 0 : task.eval_every_steps();
  eval.batch_size = config.eval.batch_size;
  const train::TrainerSettings settings{config.run, config.optimizer,  config.schedule, config.training,
                                        eval,       config.checkpoint, config.logging,  resolved};
  const auto result = train_on_this_rank(task, settings, dp, config.run.seed, checkpoint_dir, o.allow_config_change);
  if (env.rank != 0) return;
  const auto stopped_by = task.early_stopped() ? std::string("early stopping (eval.patience)") : result.stopped_by;
  std::printf("finetune: %s after %lld steps (%.2f epochs)\n", stopped_by.c_str(), static_cast<long long>(result.steps),
              task.epochs_done());
  std::string chosen = task.best_model_dir();
  if (!fs::exists(fs::path(chosen) / "config.json")) chosen = !result.model_dir.empty() ? result.model_dir : result.final_checkpoint;
  const bool finished = result.stopped_by == "max_steps" || result.stopped_by == "max_epochs" || task.early_stopped();
  if (!finished) {
    std::printf("checkpoint: %s (continue with --resume)\n", result.final_checkpoint.c_str());
    return;
  }
  std::printf("best model: %s (by dev %s)\nlast model: %s\nreport: %s\n", chosen.c_str(), task.best_metric().c_str(),
              result.model_dir.empty() ? result.final_checkpoint.c_str() : result.model_dir.c_str(),
              (fs::path(config.run.output_dir) / "report.html").c_str());
  final_evaluation(config, chosen, device);
}

struct InputFlags {
  ft::InputSettings settings;
  CommonOptions common;
  std::string model;
};

void add_input_flags(CLI::App* cmd, InputFlags& f) {
  cmd->add_option("--model", f.model, "A fine-tuned model directory (e.g. RUN/best_model)")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--format", f.settings.format, "auto, tsv, csv, jsonl or text (one text per line)")
      ->check(CLI::IsMember({"auto", "tsv", "csv", "jsonl", "text"}));
  cmd->add_option("--text-column", f.settings.text_column, "Text column (default: as trained)");
  cmd->add_option("--text-pair-column", f.settings.text_pair_column, "Second text column (default: as trained)");
  cmd->add_option("--max-seq-length", f.settings.max_seq_length, "Truncation length (default: as trained)");
  cmd->add_option("--batch-size", f.settings.batch_size, "Sequences per batch")->check(CLI::PositiveNumber);
  cmd->add_flag("--skip-bad-rows", f.settings.skip_bad_rows, "Skip malformed rows (counted) instead of stopping");
  add_common_options(*cmd, f.common);
}

}  // namespace

void add_finetune_commands(CLI::App& app) {
  auto o = std::make_shared<FinetuneOptions>();
  auto* finetune = app.add_subcommand("finetune", "Fine-tune a classifier from a YAML config");
  finetune->add_option("--config", o->config, "Run config (YAML)")->required()->check(CLI::ExistingFile);
  finetune->add_option("--set", o->overrides, "Override a config key: --set training.max_epochs=3 (repeatable)");
  finetune->add_option("--resume", o->resume, "Continue from a checkpoint or run directory (default: this run's newest)")
      ->expected(0, 1)
      ->default_str("latest");
  finetune->add_flag("--allow-config-change", o->allow_config_change, "Resume even though the config changed");
  finetune->callback([o, finetune] {
    if (finetune->count("--resume") > 0 && o->resume.empty()) o->resume = "latest";
    run_finetune(*o);
  });

  auto ev = std::make_shared<InputFlags>();
  auto ev_data = std::make_shared<std::string>();
  auto ev_out = std::make_shared<std::string>();
  auto* evaluate = app.add_subcommand("evaluate", "Metrics of a fine-tuned classifier on a labelled file");
  add_input_flags(evaluate, *ev);
  evaluate->add_option("--data", *ev_data, "Labelled file (TSV, CSV, JSONL; .gz accepted)")->required();
  evaluate->add_option("--label-column", ev->settings.label_column, "Label column (default: as trained)");
  evaluate->add_option("--output", *ev_out, "Also write the metrics as JSON here");
  evaluate->callback([ev, ev_data, ev_out] {
    apply_common_options(ev->common);
    auto classifier = ft::load_classifier(ev->model, torch::kCPU);
    const auto result = ft::evaluate_file(classifier, *ev_data, ev->settings, torch::kCPU);
    print_metrics(*ev_data + " (" + std::to_string(result.report["examples"].get<std::int64_t>()) + " examples):",
                  result.report);
    if (!ev_out->empty()) bf::write_file_atomic(*ev_out, result.report.dump(2) + "\n");
  });

  auto pr = std::make_shared<InputFlags>();
  auto pr_in = std::make_shared<std::string>();
  auto pr_out = std::make_shared<std::string>("-");
  auto* predict = app.add_subcommand("predict", "Label new text with a fine-tuned classifier");
  add_input_flags(predict, *pr);
  predict->add_option("--input", *pr_in, "TSV, CSV, JSONL or text file; - for stdin (text lines unless --format)")->required();
  predict->add_option("--output", *pr_out, "Output file (TSV/CSV/JSONL like the input); default - (stdout)");
  predict->callback([pr, pr_in, pr_out] {
    apply_common_options(pr->common);
    auto classifier = ft::load_classifier(pr->model, torch::kCPU);
    const auto summary = ft::predict_file(classifier, *pr_in, *pr_out, pr->settings, torch::kCPU);
    spdlog::info("predict: {} rows{}", summary.rows,
                 summary.skipped ? fmt::format(", {} bad rows skipped", summary.skipped) : std::string());
  });

  auto em = std::make_shared<InputFlags>();
  auto em_in = std::make_shared<std::string>();
  auto em_out = std::make_shared<std::string>();
  auto em_opts = std::make_shared<ft::EmbedOptions>();
  auto* embed = app.add_subcommand("embed", "Sentence embeddings or per-token states from any model directory");
  embed->add_option("--model", em->model, "A model directory (pretrained or fine-tuned)")->required()->check(CLI::ExistingDirectory);
  embed->add_option("--input", *em_in, "TSV, CSV, JSONL or text file; - for stdin")->required();
  embed->add_option("--output", *em_out, "Output: .safetensors, else JSONL")->required();
  embed->add_option("--format", em->settings.format, "Input format: auto, tsv, csv, jsonl or text")
      ->check(CLI::IsMember({"auto", "tsv", "csv", "jsonl", "text"}));
  embed->add_option("--text-column", em->settings.text_column, "Text column (default: text)");
  embed->add_option("--text-pair-column", em->settings.text_pair_column, "Second text column");
  embed->add_option("--max-seq-length", em->settings.max_seq_length, "Truncation length (default 128)");
  embed->add_option("--batch-size", em->settings.batch_size, "Sequences per batch")->check(CLI::PositiveNumber);
  embed->add_option("--pooling", em_opts->pooling, "cls, mean, pooler, or none (per-token states)")
      ->check(CLI::IsMember({"cls", "mean", "pooler", "none"}));
  auto* layer = embed->add_option("--layer", em_opts->layer, "Hidden state index: 0 = embeddings, -1 = last layer");
  embed->add_flag("--all-layers", em_opts->all_layers, "Every hidden state (embeddings + each layer)")->excludes(layer);
  embed->add_option("--output-format", em_opts->output_format, "auto, safetensors or jsonl")
      ->check(CLI::IsMember({"auto", "safetensors", "jsonl"}));
  add_common_options(*embed, em->common);
  embed->callback([em, em_in, em_out, em_opts] {
    apply_common_options(em->common);
    const auto summary = ft::embed_file(em->model, *em_in, *em_out, em->settings, *em_opts, torch::kCPU);
    std::string shape;
    for (auto d : summary.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
    spdlog::info("embed: {} rows -> {}{}", summary.rows, *em_out, shape.empty() ? "" : " (" + shape + ")");
  });
}

}  // namespace bf::cli
