// bertforge finetune | evaluate | predict | embed
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "finetune/embedding_file.h"
#include "finetune/finetune_run.h"
#include "finetune/tasks.h"
#include "util/fs.h"

namespace bf::cli {
namespace {
namespace fs = std::filesystem;

void print_metrics(const std::string& title, const nlohmann::json& report, const std::string& table) {
  std::printf("%s\n", title.c_str());
  for (const auto& [k, v] : ft::headline_metrics(report)) std::printf("  %s = %.4f\n", k.c_str(), v);
  if (!table.empty()) std::printf("%s", table.c_str());
}

void print_finetuning(const ft::FinetuneOutcome& out) {
  if (!out.is_main) return;
  const auto& r = out.result;
  const std::string why = r.stopped_by == train::StopReason::EarlyStopping ? "early stopping (eval.patience)"
                                                                            : train::to_string(r.stopped_by);
  std::printf("finetune: %s after %lld steps (%.2f epochs)\n", why.c_str(), static_cast<long long>(r.steps), out.epochs);
  if (!train::finished(r.stopped_by)) {
    std::printf("checkpoint: %s (continue with --resume)\n", r.final_checkpoint.c_str());
    return;
  }
  std::printf("best model: %s (by dev %s)\nlast model: %s\nreport: %s\n", out.chosen_model.c_str(),
              out.best_metric.c_str(), r.model_dir.c_str(), out.report.c_str());
  for (const auto& e : out.evaluations)
    print_metrics(e.split + " (" + e.path + ", " + std::to_string(e.report["examples"].get<std::int64_t>()) +
                      " examples) with " + out.chosen_model + ":",
                  e.report, e.table);
}

struct InputFlags {
  ft::InputSettings settings;
  CommonOptions common;
  std::string model;
  std::string precision = "fp32";
};

void add_precision_flag(CLI::App* cmd, InputFlags& f) {
  cmd->add_option("--precision", f.precision, "fp32 | bf16 (autocast) | int8 (dynamic, the encoder's linears; CPU)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}));
}

void add_input_flags(CLI::App* cmd, InputFlags& f) {
  cmd->add_option("--model", f.model, "A fine-tuned model directory (e.g. RUN/best_model)")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--format", f.settings.format,
                  "auto, tsv, csv, jsonl, text (one text per line), conll (token classification) or json (SQuAD)")
      ->check(CLI::IsMember({"auto", "tsv", "csv", "jsonl", "text", "conll", "json"}));
  cmd->add_option("--text-column", f.settings.text_column, "Text column (default: as trained)");
  cmd->add_option("--text-pair-column", f.settings.text_pair_column, "Second text column (default: as trained)");
  cmd->add_option("--max-seq-length", f.settings.max_seq_length, "Truncation length (default: as trained)");
  cmd->add_option("--batch-size", f.settings.batch_size, "Sequences per batch")->check(CLI::PositiveNumber);
  cmd->add_flag("--skip-bad-rows", f.settings.skip_bad_rows, "Skip malformed rows (counted) instead of stopping");
  add_precision_flag(cmd, f);
  add_common_options(*cmd, f.common);
}

// The flags' values that need parsing, once the command runs.
void apply_input_flags(InputFlags& f) {
  apply_common_options(f.common);
  f.settings.precision = infer::parse_precision(f.precision);
}

}  // namespace

void add_finetune_commands(CLI::App& app) {
  auto o = std::make_shared<ft::FinetuneRequest>();
  auto* finetune = app.add_subcommand(
      "finetune", "Fine-tune a classifier, token tagger (NER) or extractive QA model from a YAML config");
  finetune->add_option("--config", o->config_file, "Run config (YAML)")->required()->check(CLI::ExistingFile);
  finetune->add_option("--set", o->overrides, "Override a config key: --set training.max_epochs=3 (repeatable)");
  finetune->add_option("--resume", o->resume, "Continue from a checkpoint or run directory (default: this run's newest)")
      ->expected(0, 1)
      ->default_str("latest");
  finetune->add_flag("--allow-config-change", o->allow_config_change, "Resume even though the config changed");
  finetune->callback([o, finetune] {
    if (finetune->count("--resume") > 0 && o->resume.empty()) o->resume = "latest";
    print_finetuning(ft::run_finetuning(*o, dist::DistEnv::from_environment()));
  });

  auto ev = std::make_shared<InputFlags>();
  auto ev_data = std::make_shared<std::string>();
  auto ev_out = std::make_shared<std::string>();
  auto* evaluate = app.add_subcommand("evaluate", "Metrics of a fine-tuned model on a labelled file");
  add_input_flags(evaluate, *ev);
  evaluate->add_option("--data", *ev_data, "Labelled file (TSV, CSV, JSONL, CoNLL, SQuAD JSON; .gz for rows)")->required();
  evaluate->add_option("--label-column", ev->settings.label_column, "Label column (default: as trained)");
  evaluate->add_option("--output", *ev_out, "Also write the metrics as JSON here");
  evaluate->callback([ev, ev_data, ev_out] {
    apply_input_flags(*ev);
    const auto result = ft::evaluate_model_dir(ev->model, *ev_data, ev->settings, torch::kCPU);
    print_metrics(*ev_data + " (" + std::to_string(result.report.value("examples", std::int64_t{0})) + " examples):",
                  result.report, result.table);
    if (!ev_out->empty()) bf::write_file_atomic(*ev_out, result.report.dump(2) + "\n");
  });

  auto pr = std::make_shared<InputFlags>();
  auto pr_in = std::make_shared<std::string>();
  auto pr_out = std::make_shared<std::string>("-");
  auto* predict = app.add_subcommand("predict", "Label new text, tag sentences or answer questions with a fine-tuned model");
  add_input_flags(predict, *pr);
  predict->add_option("--input", *pr_in,
                      "TSV, CSV, JSONL, text, CoNLL or SQuAD JSON; - for stdin (text lines unless --format)")
      ->required();
  predict->add_option("--output", *pr_out,
                      "Output file like the input (CoNLL: a predicted-tag column; QA: {id: answer}, with "
                      "nbest_predictions.json beside it); default - (stdout)");
  predict->callback([pr, pr_in, pr_out] {
    apply_input_flags(*pr);
    const auto summary = ft::predict_model_dir(pr->model, *pr_in, *pr_out, pr->settings, torch::kCPU);
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
  embed->add_flag("--normalize", em_opts->normalize, "Divide each vector by its L2 norm");
  embed->add_option("--output-format", em_opts->output_format, "auto, safetensors or jsonl")
      ->check(CLI::IsMember({"auto", "safetensors", "jsonl"}));
  add_precision_flag(embed, *em);
  add_common_options(*embed, em->common);
  embed->callback([em, em_in, em_out, em_opts] {
    apply_input_flags(*em);
    const auto summary = ft::embed_file(em->model, *em_in, *em_out, em->settings, *em_opts, torch::kCPU);
    std::string shape;
    for (auto d : summary.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
    spdlog::info("embed: {} rows -> {}{}", summary.rows, *em_out, shape.empty() ? "" : " (" + shape + ")");
  });
}

}  // namespace bf::cli
