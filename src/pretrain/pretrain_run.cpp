#include "pretrain/pretrain_run.h"

#include <filesystem>
#include <memory>

#include "pretrain/pretrain_config.h"
#include "pretrain/pretrain_inputs.h"
#include "pretrain/pretrain_task.h"
#include "tokenizer/tokenizer.h"
#include "train/run.h"

namespace bf::pretrain {
namespace fs = std::filesystem;

PretrainOutcome run_pretraining(const PretrainRequest& request, const dist::DistEnv& env) {
  auto overrides = request.overrides;
  if (!request.init_from.empty()) overrides.push_back("model.init_from=" + request.init_from);
  const auto config = load_pretrain_config(request.config_file, overrides);

  train::RunSettings settings;
  settings.command = "pretrain";
  settings.config_file = request.config_file;
  settings.trainer = {config.run,        config.optimizer, config.schedule,       config.training,
                      config.checkpoint, config.logging,   config_to_yaml(config)};
  settings.distributed = config.distributed;
  settings.resume = request.resume;
  settings.allow_config_change = request.allow_config_change;
  // Paths first, then what the files hold: every problem before any work.
  settings.input_problems = check_pretrain_paths(config);
  // The tokenizer and the probe's files are read here, once, and handed to the task.
  PretrainReads reads;
  if (settings.input_problems.empty()) {
    reads.tokenizer = tok::load_tokenizer(config.tokenizer);
    const auto& tokenizer = *reads.tokenizer;
    for (auto& p : check_pretrain_inputs(config, tokenizer, &reads.probe))
      settings.input_problems.push_back(std::move(p));
    settings.expected_model = config.model.resolve(tokenizer.vocab_size(), tokenizer.special_ids().pad);
  }

  auto outcome = train::run(settings, env, [&](const train::RunContext& ctx) {
    // One process per host builds the shards; the others wait and find them up to date.
    const bool builder = ctx.env.local_rank == 0;
    if (!builder) ctx.comm.barrier();
    ensure_pretraining_data(config, *reads.tokenizer);
    if (builder && ctx.comm.world_size() > 1) ctx.comm.barrier();
    return std::make_unique<PretrainTask>(config, ctx.device, ctx.comm, std::move(reads));
  });
  return {outcome.is_main, outcome.result, (fs::path(config.run.output_dir) / "report.html").string()};
}

}  // namespace bf::pretrain
