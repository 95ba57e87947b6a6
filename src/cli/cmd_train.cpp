// bertforge pretrain | validate-config
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "finetune/finetune_config.h"
#include "pretrain/pretrain_config.h"
#include "pretrain/pretrain_run.h"
#include "util/error.h"

namespace bf::cli {
namespace {

void print_pretraining(const pretrain::PretrainOutcome& out) {
  if (!out.is_main) return;
  const auto& r = out.result;
  std::printf("pretrain: %s after %lld steps\n", train::to_string(r.stopped_by), static_cast<long long>(r.steps));
  for (const auto& [k, v] : r.last_eval) std::printf("  eval %s = %.4f\n", k.c_str(), v);
  if (!r.model_dir.empty()) std::printf("model: %s\n", r.model_dir.c_str());
  std::printf("checkpoint: %s\nreport: %s\n", r.final_checkpoint.c_str(), out.report.c_str());
}

void print_validation(const std::string& file, const std::string& yaml, const std::vector<std::string>& problems,
                      const char* kind) {
  if (!problems.empty()) {
    std::string message = file + ": the config parses, but:";
    for (const auto& p : problems) message += "\n  " + p;
    bf::fail(message);
  }
  std::printf("%s# %s: a valid %s config\n", yaml.c_str(), file.c_str(), kind);
}

void validate(const std::string& file, const std::vector<std::string>& overrides) {
  if (ft::is_finetune_config(file)) {
    const auto config = ft::load_finetune_config(file, overrides);
    print_validation(file, config_to_yaml(config), ft::check_finetune_paths(config), "fine-tuning");
  } else {
    const auto config = pretrain::load_pretrain_config(file, overrides);
    print_validation(file, config_to_yaml(config), pretrain::check_pretrain_paths(config), "pretraining");
  }
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto o = std::make_shared<pretrain::PretrainRequest>();
  auto* cmd = app.add_subcommand("pretrain", "Pretrain BERT (MLM + NSP) from a YAML config");
  cmd->add_option("--config", o->config_file, "Run config (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->overrides, "Override a config key: --set training.max_steps=100 (repeatable)");
  cmd->add_option("--resume", o->resume,
                  "Continue from a checkpoint: a checkpoint or run directory (default: this run's newest)")
      ->expected(0, 1)
      ->default_str("latest");
  cmd->add_option("--init-from", o->init_from, "Start from these weights with a new schedule (model dir or checkpoint)");
  cmd->add_flag("--allow-config-change", o->allow_config_change,
                "Resume even though model/data/optimizer settings changed");
  cmd->callback([o, cmd] {
    if (cmd->count("--resume") > 0 && o->resume.empty()) o->resume = "latest";
    print_pretraining(pretrain::run_pretraining(*o, dist::DistEnv::from_environment()));
  });

  auto file = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto* check = app.add_subcommand(
      "validate-config", "Check a pretraining or fine-tuning config and the files it names, without training");
  check->add_option("config", *file, "Run config (YAML)")->required()->check(CLI::ExistingFile);
  check->add_option("--set", *overrides, "Override a config key (repeatable)");
  check->callback([file, overrides] { validate(*file, *overrides); });
}

}  // namespace bf::cli
