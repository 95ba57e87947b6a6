// bertforge pretrain | validate-config
#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/run_setup.h"
#include "finetune/finetune_config.h"
#include "train/checkpoint.h"
#include "train/precision.h"
#include "train/pretrain_task.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/runtime.h"

namespace bf::cli {
namespace {
namespace fs = std::filesystem;

struct PretrainOptions {
  std::string config;
  std::vector<std::string> overrides;
  std::string resume;  // "" = no, "latest" = the run's newest checkpoint, else a directory
  std::string init_from;
  bool allow_config_change = false;
};

void run_pretrain(const PretrainOptions& o) {
  auto overrides = o.overrides;
  if (!o.init_from.empty()) overrides.push_back("model.init_from=" + o.init_from);
  auto config = train::load_pretrain_config(o.config, overrides);
  const std::string resolved = config_to_yaml(config);
  const auto device = train::resolve_device(config.run.device);
  // Every problem with the inputs is reported before any work (or any file in
  // the run directory): paths first, then what the files hold.
  auto problems = train::check_pretrain_paths(config);
  std::unique_ptr<tok::Tokenizer> tokenizer;
  if (problems.empty()) {
    tokenizer = tok::load_tokenizer(config.tokenizer);
    for (auto& p : train::check_pretrain_inputs(config, *tokenizer)) problems.push_back(std::move(p));
  }
  const auto env = dist::DistEnv::from_environment();
  const auto checkpoint_dir = start_run({"pretrain", o.config, problems, resolved, config.run.output_dir, o.resume,
                                         o.allow_config_change, config.logging.level,
                                         static_cast<int>(config.run.threads), device.str(), env});
  if (!checkpoint_dir.empty()) {
    const auto diff = train::model_shape_differences(
        checkpoint_dir, config.model.resolve(tokenizer->vocab_size(), tokenizer->special_ids().pad));
    if (!diff.empty())
      bf::fail("--resume: " + checkpoint_dir + " holds a model of another size than this config's:" + diff);
  }

  auto dp = join_data_parallel(env, config.distributed, device);
  // One process per host builds the shards; the others wait and find them up to date.
  if (dp.comm && env.local_rank != 0) dp.comm->barrier();
  train::ensure_pretraining_data(config, *tokenizer);
  if (dp.comm && env.local_rank == 0) dp.comm->barrier();
  train::AllReduceSum sum_over_ranks;
  if (dp.comm) sum_over_ranks = [comm = dp.comm.get()](std::vector<double>& v) { comm->sum(v); };
  train::PretrainTask task(config, dp.device, env.rank, env.world_size, sum_over_ranks);
  const train::TrainerSettings settings{config.run,  config.optimizer,  config.schedule, config.training,
                                        config.eval, config.checkpoint, config.logging,  resolved};
  const auto result = train_on_this_rank(task, settings, dp, config.run.seed, checkpoint_dir, o.allow_config_change);
  if (env.rank != 0) return;
  std::printf("pretrain: %s after %lld steps\n", result.stopped_by.c_str(), static_cast<long long>(result.steps));
  for (const auto& [k, v] : result.last_eval) std::printf("  eval %s = %.4f\n", k.c_str(), v);
  if (!result.model_dir.empty()) std::printf("model: %s\n", result.model_dir.c_str());
  std::printf("checkpoint: %s\nreport: %s\n", result.final_checkpoint.c_str(),
              (fs::path(config.run.output_dir) / "report.html").c_str());
}

// Fine-tuning configs name labelled files (data.train); pretraining ones a
// tokenizer and corpus inputs. Unreadable YAML goes to the pretraining parser,
// which reports it with the line.
bool is_finetune_config(const std::string& file) {
  try {
    const YAML::Node root = YAML::LoadFile(file);
    return root.IsMap() && root["data"] && root["data"].IsMap() && root["data"]["train"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

template <class Config>
void report_validation(const std::string& file, Config& config, const std::vector<std::string>& problems,
                       const char* kind) {
  if (!problems.empty()) {
    std::string message = file + ": the config parses, but:";
    for (const auto& p : problems) message += "\n  " + p;
    bf::fail(message);
  }
  std::printf("%s", config_to_yaml(config).c_str());
  std::printf("# %s: a valid %s config\n", file.c_str(), kind);
}

void run_validate(const std::string& file, const std::vector<std::string>& overrides) {
  if (is_finetune_config(file)) {
    auto config = ft::load_finetune_config(file, overrides);
    report_validation(file, config, ft::check_finetune_paths(config), "fine-tuning");
  } else {
    auto config = train::load_pretrain_config(file, overrides);
    report_validation(file, config, train::check_pretrain_paths(config), "pretraining");
  }
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto o = std::make_shared<PretrainOptions>();
  auto* pretrain = app.add_subcommand("pretrain", "Pretrain BERT (MLM + NSP) from a YAML config");
  pretrain->add_option("--config", o->config, "Run config (YAML)")->required()->check(CLI::ExistingFile);
  pretrain->add_option("--set", o->overrides, "Override a config key: --set training.max_steps=100 (repeatable)");
  pretrain->add_option("--resume", o->resume,
                       "Continue from a checkpoint: a checkpoint or run directory (default: this run's newest)")
      ->expected(0, 1)
      ->default_str("latest");
  pretrain->add_option("--init-from", o->init_from, "Start from these weights with a new schedule (model dir or checkpoint)");
  pretrain->add_flag("--allow-config-change", o->allow_config_change,
                     "Resume even though model/data/optimizer settings changed");
  pretrain->callback([o, pretrain] {
    if (pretrain->count("--resume") > 0 && o->resume.empty()) o->resume = "latest";
    run_pretrain(*o);
  });

  auto file = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto* validate = app.add_subcommand("validate-config", "Check a pretraining or fine-tuning config and the files it names, without training");
  validate->add_option("config", *file, "Run config (YAML)")->required()->check(CLI::ExistingFile);
  validate->add_option("--set", *overrides, "Override a config key (repeatable)");
  validate->callback([file, overrides] { run_validate(*file, *overrides); });
}

}  // namespace bf::cli
