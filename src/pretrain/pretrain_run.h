#pragma once
// A pretraining run from its config file: what `bertforge pretrain` does,
// callable without the CLI.
#include <string>
#include <vector>

#include "dist/dist_env.h"
#include "train/trainer.h"

namespace bf::pretrain {

struct PretrainRequest {
  std::string config_file;
  std::vector<std::string> overrides;  // "key.path=value", as --set
  std::string resume;                  // "" = fresh, "latest", or a checkpoint/run directory
  std::string init_from;               // model.init_from, as --init-from
  bool allow_config_change = false;
};

struct PretrainOutcome {
  bool is_main = true;  // rank 0 of a data-parallel run: the one that reports
  train::TrainResult result;
  std::string report;   // report.html
};

// Checks every input before any work (paths, the shards' tokenizer, the size
// of init_from and of the checkpoint to resume), builds the shards (one
// process per host), then trains through train::run.
PretrainOutcome run_pretraining(const PretrainRequest& request, const dist::DistEnv& env);

}  // namespace bf::pretrain
