// The resume contract: N steps straight, or k steps + stop + resume + N-k
// steps, give bit-identical losses at every step and bit-identical weights.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "io/hf_model.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "pretrain/pretrain_inputs.h"
#include "pretrain/pretrain_task.h"
#include "train/trainer.h"
#include "pretrain_fixture.h"
#include "util/fs.h"

using namespace bf;

namespace {

train::TrainerSettings settings_of(const pretrain::PretrainConfig& c) {
  return {c.run, c.optimizer, c.schedule, c.training, c.eval, c.checkpoint, c.logging, config_to_yaml(
      const_cast<pretrain::PretrainConfig&>(c))};
}

train::TrainResult run(const pretrain::PretrainConfig& config, const std::string& resume_from = "") {
  auto tokenizer = tok::load_tokenizer(config.tokenizer);
  pretrain::ensure_pretraining_data(config, *tokenizer);
  pretrain::PretrainTask task(config, torch::kCPU);
  train::Trainer trainer(settings_of(config), task, torch::kCPU);
  if (!resume_from.empty()) trainer.resume_from(resume_from);
  return trainer.train();
}

// step -> the full train record, as written.
std::map<std::int64_t, nlohmann::json> train_records(const std::string& run_dir) {
  std::map<std::int64_t, nlohmann::json> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "train") out[j["step"].get<std::int64_t>()] = j;
  }
  return out;
}

void require_same_run(const std::string& straight_dir, const std::string& resumed_dir) {
  const auto a = train_records(straight_dir);
  const auto b = train_records(resumed_dir);
  REQUIRE(a.size() == 6);
  REQUIRE(b.size() == a.size());
  for (const auto& [step, record] : a) {
    INFO("step " << step);
    for (const char* key : {"loss", "mlm_loss", "nsp_loss", "grad_norm", "lr"}) {
      INFO(key);
      REQUIRE(record[key].get<double>() == b.at(step)[key].get<double>());  // bit-identical
    }
  }
  io::SafetensorsReader x(straight_dir + "/model/model.safetensors");
  io::SafetensorsReader y(resumed_dir + "/model/model.safetensors");
  for (const auto& e : x.entries()) {
    INFO(e.name);
    REQUIRE(torch::equal(x.load(e.name), y.load(e.name)));
  }
}

double check_contract(const std::vector<std::string>& overrides, int corpus_lines = 1500) {
  const auto dir = test::temp_dir("resume");
  auto straight = test::tiny_run_config(dir, overrides, corpus_lines);
  straight.run.output_dir = dir + "/straight";
  REQUIRE(run(straight).steps == 6);

  auto first = straight;
  first.run.output_dir = dir + "/resumed";
  first.training.session_steps = 2;  // stop after step 2, checkpoint, as a stopped run does
  auto stopped = run(first);
  REQUIRE(stopped.steps == 2);
  REQUIRE(stopped.stopped_by == train::StopReason::SessionSteps);
  auto second = straight;
  second.run.output_dir = dir + "/resumed";
  const auto checkpoint = train::find_latest_checkpoint(second.run.output_dir);
  REQUIRE(checkpoint.find("step-00000002") != std::string::npos);
  REQUIRE(run(second, checkpoint).steps == 6);
  require_same_run(dir + "/straight", dir + "/resumed");
  return train_records(dir + "/straight").rbegin()->second["epoch"].get<double>();
}

}  // namespace

TEST_CASE("resume is bit-identical to an uninterrupted run (fp32)", "[pretrain][resume]") { check_contract({}); }

TEST_CASE("resume is bit-identical with gradient accumulation", "[train][resume][long]") {
  check_contract({"training.grad_accum_steps=2"});
}

TEST_CASE("resume is bit-identical under bf16 autocast", "[train][resume][long]") {
  check_contract({"training.precision=bf16"});
}

TEST_CASE("resume is bit-identical across an epoch boundary", "[train][resume][long]") {
  // A corpus smaller than 6 steps of 8 sequences: the run wraps into later epochs.
  const double epochs = check_contract({"training.batch_size=8"}, 70);
  REQUIRE(epochs > 1.0);
}

TEST_CASE("resume is bit-identical with dynamic loss scaling (the scaler's state is checkpointed)", "[train][resume][fp16][long]") {
  check_contract({"training.loss_scaling=dynamic", "training.loss_scale_growth_interval=2"});
}

TEST_CASE("dynamic loss scaling: power-of-two scales change no loss, overflowing steps are skipped, not fatal", "[train][fp16][long]") {
  const auto dir = test::temp_dir("loss-scaling");
  auto plain = test::tiny_run_config(dir);
  plain.run.output_dir = dir + "/plain";
  REQUIRE(run(plain).steps == 6);
  auto scaled = test::tiny_run_config(dir, {"training.loss_scaling=dynamic"});
  scaled.run.output_dir = dir + "/scaled";
  REQUIRE(run(scaled).steps == 6);
  const auto a = train_records(dir + "/plain");
  const auto b = train_records(dir + "/scaled");
  REQUIRE(a.size() == 6);
  for (const auto& [step, record] : a) {
    INFO("step " << step);
    REQUIRE(record["loss"].get<double>() == b.at(step)["loss"].get<double>());
    REQUIRE(b.at(step)["loss_scale"].get<double>() == 65536.0);
  }

  // A scale of 2^127 overflows fp32 gradients: those steps are skipped and
  // the scale halved until the gradients fit, then training goes on (more
  // overflows in a row than max_nonfinite_in_a_row, which they do not count toward).
  auto huge = test::tiny_run_config(dir, {"training.loss_scaling=dynamic", "training.loss_scale_init=1.7014118346046923e38",
                                          "training.max_nonfinite_in_a_row=1"});
  huge.run.output_dir = dir + "/huge";
  const auto result = run(huge);
  REQUIRE(result.steps == 6);
  int overflows = 0;
  std::ifstream in(dir + "/huge/metrics.jsonl");
  std::string line;
  while (std::getline(in, line))
    if (nlohmann::json::parse(line).value("event", "") == "loss_scale_overflow") ++overflows;
  INFO(overflows << " overflow events");
  REQUIRE(overflows > huge.training.max_nonfinite_in_a_row);
  const auto c = train_records(dir + "/huge");
  REQUIRE(c.rbegin()->second["loss_scale"].get<double>() < 1.0e38);
  REQUIRE(std::isfinite(c.rbegin()->second["loss"].get<double>()));
}
