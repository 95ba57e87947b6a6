#pragma once
// The training loop shared by pretraining and fine-tuning: gradient
// accumulation, mixed precision, clipping, non-finite step skipping, stops
// (steps, epochs, wall clock, SIGINT/SIGTERM), periodic evaluation,
// checkpoints with exact resume, metrics.jsonl, progress and report.html.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/collective.h"
#include "train/stop_reason.h"
#include "train/task.h"
#include "train/train_config.h"

namespace bf::train {

struct LoadedCheckpoint;

struct TrainerSettings {
  RunSection run;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  TrainingSection training;
  CheckpointSection checkpoint;
  LoggingSection logging;
  std::string run_config_yaml;  // the resolved config, saved with every checkpoint
  std::int64_t patience = 0;     // stop after this many evaluations without a better best metric; 0 = never
  bool save_best_model = false;  // keep the best evaluation's weights as run/best_model (fine-tuning)
};

struct TrainResult {
  std::int64_t steps = 0;
  StopReason stopped_by = StopReason::MaxSteps;
  std::string final_checkpoint;
  std::string model_dir;        // the exported HF model directory (a finished run)
  std::string best_model_dir;   // with save_best_model, when an evaluation gave one
  // The best evaluation's weights (parameters and buffers by name, on the
  // CPU), kept when this session found it, so the final evaluation reads
  // nothing back; empty when the best came before a resume (then only
  // best_model_dir holds it).
  std::vector<std::pair<std::string, torch::Tensor>> best_weights;
  std::map<std::string, double> last_eval;
};

class Trainer {
 public:
  // `comm` joins the other processes of a data-parallel run (nullptr: one
  // process). Every rank runs the same loop; rank 0 alone writes checkpoints,
  // metrics, reports and the final model.
  Trainer(TrainerSettings settings, TrainingTask& task, torch::Device device, dist::Collective* comm = nullptr);
  // Restores model, optimizer, RNG (this rank's), data cursor, step and
  // counters. A checkpoint of another world size is refused unless config
  // changes are allowed (the data order then differs from an uninterrupted run).
  void resume_from(const std::string& checkpoint_dir, bool allow_config_change = false);
  void resume_from(const LoadedCheckpoint& checkpoint, bool allow_config_change = false);
  TrainResult train();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Installs SIGINT/SIGTERM handlers that ask the loop to stop after the
// current step (a second signal exits at once).
void install_stop_signal_handlers();
bool stop_requested();

}  // namespace bf::train
