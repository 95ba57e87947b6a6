#pragma once
// The pretraining run config: one YAML file with sections run, tokenizer,
// data, model, optimizer, schedule, training, eval, checkpoint, logging,
// distributed.
#include <string>
#include <vector>

#include "data/data_config.h"
#include "dist/distributed_section.h"
#include "finetune/probe/probe_section.h"
#include "model/model_section.h"
#include "train/train_config.h"

namespace bf::pretrain {

// The trainer's eval section plus the downstream probe run at evaluations.
struct PretrainEvalSection : train::EvalSection {
  ft::ProbeSection probe;
  template <class V>
  void visit(V& v) {
    train::EvalSection::visit(v);
    v.section("probe", probe);
  }
};

struct PretrainConfig {
  train::RunSection run;
  std::string tokenizer;  // tokenizer directory
  data::DataConfig data;
  model::ModelSection model;
  train::OptimizerConfig optimizer;
  train::ScheduleConfig schedule;
  train::TrainingSection training;
  PretrainEvalSection eval;
  train::CheckpointSection checkpoint;
  train::LoggingSection logging;
  dist::DistributedSection distributed;

  template <class V>
  void visit(V& v) {
    v.section("run", run);
    v.required("tokenizer", tokenizer);
    v.section("data", data);
    v.section("model", model);
    v.section("optimizer", optimizer);
    v.section("schedule", schedule);
    v.section("training", training);
    v.section("eval", eval);
    v.section("checkpoint", checkpoint);
    v.section("logging", logging);
    v.section("distributed", distributed);
  }
};

PretrainConfig load_pretrain_config(const std::string& file, const std::vector<std::string>& overrides = {});

// `data build`'s config: the tokenizer and data sections of a data-only file
// or of a whole pretraining config (whose other sections it leaves alone).
data::DataBuildConfig read_data_build_config(const std::string& file, const std::vector<std::string>& overrides = {});

// Problems a parse cannot see: files and directories named by the config that
// do not exist, an output directory that cannot be written. Empty when fine.
std::vector<std::string> check_pretrain_paths(const PretrainConfig& config);

}  // namespace bf::pretrain
