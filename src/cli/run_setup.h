#pragma once
// Set-up shared by the commands that run the trainer (pretrain, finetune):
// logging into the run directory, and the resume checks.
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dist/dist_env.h"
#include "train/collective.h"
#include "train/distributed_section.h"
#include "train/trainer.h"

namespace bf::cli {

// Console and run-directory log file (train.log), one format. Ranks other
// than 0 of a data-parallel run log warnings and errors to the console only.
void setup_logging(const std::string& run_dir, const std::string& level, int rank = 0);

// Refuses a resume whose config differs from the checkpoint's in anything but
// the safe keys (how long, how often), unless allowed.
void refuse_unsafe_changes(const std::string& checkpoint_dir, const std::string& saved, const std::string& now,
                           bool allowed);

// The checkpoint --resume names: "latest" (the run's newest), a checkpoint
// directory, or a run directory (its newest). Verified; empty when not resuming.
std::string resume_checkpoint(const std::string& resume, const std::string& output_dir);

// What a training command knows before it starts.
struct RunStart {
  std::string command;      // "pretrain", "finetune"
  std::string config_file;
  std::vector<std::string> path_problems;  // missing inputs etc., reported together
  std::string resolved;     // the resolved config as YAML
  std::string output_dir;
  std::string resume;       // --resume ("" = a fresh run)
  bool allow_config_change = false;
  std::string log_level;
  int threads = 0;
  std::string device;       // resolved, for the log
  dist::DistEnv dist;       // this process's place in a data-parallel run
};

// The common start of pretrain and finetune, before any work: fails on path
// problems (all listed); picks and verifies the checkpoint to resume, whose
// config may differ only in safe keys, or refuses a fresh run over existing
// checkpoints; then logging into the run directory, the thread count, and the
// resolved config printed and saved as config.yaml. Returns the checkpoint to
// resume from ("" for a fresh run).
std::string start_run(const RunStart& start);

// This process in a data-parallel run (from the torchrun environment): the
// device (cuda:LOCAL_RANK on GPUs) and, with WORLD_SIZE > 1, the process
// group, joined after every rank arrived. One process: comm is null.
struct DataParallel {
  dist::DistEnv env;
  torch::Device device = torch::kCPU;
  std::unique_ptr<train::Collective> comm;
};
DataParallel join_data_parallel(const dist::DistEnv& env, const train::DistributedSection& config,
                                torch::Device device);

// Trains `task` on this rank: gives the rank its dropout stream (after the
// task was built, since building it seeds the data order), then trains from
// `checkpoint_dir` when resuming, else from the start.
train::TrainResult train_on_this_rank(train::TrainingTask& task, const train::TrainerSettings& settings,
                                      const DataParallel& dp, std::int64_t seed, const std::string& checkpoint_dir,
                                      bool allow_config_change);

}  // namespace bf::cli
