#pragma once
// A fine-tuning run from its config file: what `bertforge finetune` does,
// callable without the CLI. After a finished run, the chosen model (the best
// by the dev metric, else the last) is evaluated on the dev and test files.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "dist/dist_env.h"
#include "train/trainer.h"

namespace bf::ft {

struct FinetuneRequest {
  std::string config_file;
  std::vector<std::string> overrides;  // "key.path=value", as --set
  std::string resume;                  // "" = fresh, "latest", or a checkpoint/run directory
  bool allow_config_change = false;
};

struct FinalEvaluation {
  std::string split;  // "dev" | "test"
  std::string path;   // the labelled file
  std::string saved;  // RUN/eval_<split>.json
  nlohmann::json report;
  std::string table;  // per-class or per-type, for printing
};

struct FinetuneOutcome {
  bool is_main = true;  // rank 0 of a data-parallel run: the one that reports
  train::TrainResult result;
  double epochs = 0;
  std::string best_metric;
  std::string chosen_model;  // best_model/, else the exported model/ (finished runs)
  std::string report;        // report.html
  std::vector<FinalEvaluation> evaluations;
};

FinetuneOutcome run_finetuning(const FinetuneRequest& request, const dist::DistEnv& env);

}  // namespace bf::ft
