#pragma once
// The library entry that runs any training task, from a parsed config to a
// finished (or cleanly stopped) run: problems with the inputs reported before
// any work, the checkpoint to resume found and checked (a config that differs
// in anything but the safe keys is refused), logging into the run directory,
// threads and device, the data-parallel group joined, the task built, each
// rank's random stream, resume, training, rank 0's report and final export.
// pretrain/ and finetune/ call it with a factory for their task; cli/ only
// parses flags and prints what comes back.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/collective.h"
#include "dist/dist_env.h"
#include "dist/distributed_section.h"
#include "model/bert_config.h"
#include "train/task.h"
#include "train/trainer.h"

namespace bf::train {

struct RunSettings {
  std::string command;      // "pretrain", "finetune": for the log
  std::string config_file;  // for messages
  TrainerSettings trainer;  // run, optimizer, ..., the resolved config
  dist::DistributedSection distributed;
  std::string resume;       // "" = a fresh run, "latest", a checkpoint or run directory
  bool allow_config_change = false;
  // Missing inputs and the like, found by the task's own checks: reported
  // together, before anything is written.
  std::vector<std::string> input_problems;
  // The model the config describes, when known up front: a checkpoint to
  // resume of another shape is refused before any work.
  std::optional<model::BertConfig> expected_model;
};

// What a task factory gets: where it runs and the other ranks.
struct RunContext {
  torch::Device device;
  dist::Collective& comm;
  const dist::DistEnv& env;
};
using TaskFactory = std::function<std::unique_ptr<TrainingTask>(const RunContext&)>;

struct RunOutcome {
  TrainResult result;
  std::unique_ptr<dist::Collective> group;  // before the task, which refers to it
  std::unique_ptr<TrainingTask> task;  // as it ended (e.g. for a final evaluation)
  torch::Device device = torch::kCPU;
  bool is_main = true;                 // rank 0 (prints, writes the run directory)
  std::string checkpoint_resumed;      // "" for a fresh run
};

RunOutcome run(const RunSettings& settings, const dist::DistEnv& env, const TaskFactory& make_task);

// The checkpoint --resume names: "latest" (the run's newest), a checkpoint
// directory, or a run directory (its newest); "" when not resuming.
std::string resume_checkpoint(const std::string& resume, const std::string& output_dir);

// Refuses a resume whose config differs from the checkpoint's in anything but
// the safe keys (how long, how often), unless allowed.
void refuse_unsafe_changes(const std::string& checkpoint_dir, const std::string& saved, const std::string& now,
                           bool allowed);

// Console and run-directory log file (train.log), one format. Ranks other
// than 0 log warnings and errors to the console only.
void setup_logging(const std::string& run_dir, const std::string& level, int rank = 0);

}  // namespace bf::train
