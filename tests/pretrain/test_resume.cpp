// The resume contract: N steps straight, or k steps + stop + resume + N-k
// steps, give bit-identical losses at every step and bit-identical weights.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "../support/metrics_records.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "pretrain/pretrain_inputs.h"
#include "pretrain/pretrain_run.h"
#include "pretrain/pretrain_task.h"
#include "train/trainer.h"
#include "pretrain_fixture.h"
#include "util/fs.h"

using namespace bf;

namespace {

train::TrainerSettings settings_of(const pretrain::PretrainConfig& c) {
  return {c.run, c.optimizer, c.schedule, c.training, c.checkpoint, c.logging, config_to_yaml(
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

std::map<std::int64_t, nlohmann::json> train_records(const std::string& run_dir) {
  return test::metrics_records(run_dir, "train");
}

void require_same_run(const std::string& straight_dir, const std::string& resumed_dir,
                      const char* pair_loss = "nsp_loss") {
  const auto a = train_records(straight_dir);
  const auto b = train_records(resumed_dir);
  REQUIRE(a.size() == 6);
  REQUIRE(b.size() == a.size());
  for (const auto& [step, record] : a) {
    INFO("step " << step);
    for (const char* key : {"loss", "mlm_loss", pair_loss, "grad_norm", "lr"}) {
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

double check_contract(const std::vector<std::string>& overrides, int corpus_lines = 1500,
                      const char* pair_loss = "nsp_loss") {
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
  require_same_run(dir + "/straight", dir + "/resumed", pair_loss);
  return train_records(dir + "/straight").rbegin()->second["epoch"].get<double>();
}

}  // namespace

TEST_CASE("resume is bit-identical to an uninterrupted run (fp32)", "[pretrain][resume]") { check_contract({}); }

// On 2 threads the linears' GEMMs are split over them (model/fused/linear.cpp)
// and the fused kernels run on both: the same bits must still come back.
TEST_CASE("resume is bit-identical on 2 threads", "[pretrain][resume]") { check_contract({"run.threads=2"}); }

// Span masking and sentence-order pairs come from the same (seed, epoch, index) streams.
TEST_CASE("resume is bit-identical with span masking and SOP", "[pretrain][resume]") {
  check_contract({"data.pair_task=sop", "data.mask_unit=span"}, 1500, "sop_loss");
}

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

namespace {

// eval.probe on 40 SST-2 training sentences, scored on 20 dev sentences.
std::vector<std::string> probe_overrides(const std::string& dir, const std::string& mode) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> o;
  for (const auto& [split, rows] : std::vector<std::pair<std::string, int>>{{"train", 40}, {"dev", 20}}) {
    std::ifstream in(test::shared_path("data/sst2/" + split + ".tsv"));
    std::ofstream out(dir + "/" + split + ".tsv");
    std::string line;
    for (int i = 0; i <= rows && std::getline(in, line); ++i) out << line << "\n";
    o.push_back("eval.probe." + split + "=" + dir + "/" + split + ".tsv");
  }
  o.push_back("eval.probe.text_column=sentence");
  o.push_back("eval.probe.max_seq_length=48");
  o.push_back("eval.probe.mode=" + mode);
  o.push_back("eval.probe.steps=3");
  o.push_back("eval.probe.batch_size=8");
  return o;
}

}  // namespace

TEST_CASE("eval.probe: recorded at each eval, changes nothing the run trains, resumes exactly", "[pretrain][probe]") {
  const auto mode = GENERATE(std::string("linear"), std::string("finetune"));
  INFO("mode " << mode);
  const auto dir = test::temp_dir("probe-" + mode);
  const auto overrides = probe_overrides(dir + "/probe", mode);

  // Without the probe and with it: the same losses and weights at every step.
  auto plain = test::tiny_run_config(dir);
  plain.run.output_dir = dir + "/plain";
  REQUIRE(run(plain).steps == 6);
  auto straight = test::tiny_run_config(dir, overrides);
  straight.run.output_dir = dir + "/straight";
  REQUIRE(run(straight).steps == 6);
  require_same_run(dir + "/plain", dir + "/straight");

  const auto evals = test::metrics_records(dir + "/straight", "eval");
  REQUIRE(evals.size() == 2);  // steps 3 and 6
  for (const auto& [step, record] : evals) {
    INFO("step " << step);
    for (const char* key : {"probe_accuracy", "probe_macro_f1", "probe_accuracy_random_init", "probe_macro_f1_random_init"}) {
      INFO(key);
      REQUIRE(record.contains(key));
      REQUIRE(record[key].get<double>() >= 0.0);
      REQUIRE(record[key].get<double>() <= 1.0);
    }
    REQUIRE(record["probe_accuracy_random_init"] == evals.begin()->second["probe_accuracy_random_init"]);
  }

  // Stopped at step 2 (before any probe) and at step 4 (after one): the
  // resumed run trains and probes exactly as the straight one.
  for (int stop_at : {2, 4}) {
    INFO("stopped at step " << stop_at);
    auto first = straight;
    first.run.output_dir = dir + "/resumed-" + std::to_string(stop_at);
    first.training.session_steps = stop_at;
    REQUIRE(run(first).steps == stop_at);
    auto second = straight;
    second.run.output_dir = first.run.output_dir;
    REQUIRE(run(second, train::find_latest_checkpoint(second.run.output_dir)).steps == 6);
    require_same_run(dir + "/straight", second.run.output_dir);
    const auto resumed = test::metrics_records(second.run.output_dir, "eval");
    for (const auto& [step, record] : evals) {
      INFO("eval at step " << step);
      for (const char* key : {"probe_accuracy", "probe_macro_f1", "probe_accuracy_random_init"})
        REQUIRE(resumed.at(step)[key] == record[key]);
    }
  }
  // The reference is checkpointed once measured.
  const auto state = nlohmann::json::parse(
      bf::read_file(train::find_latest_checkpoint(dir + "/straight") + "/trainer_state.json"));
  REQUIRE(state.at("data").contains("probe_random_init"));
}

TEST_CASE("eval.probe: a missing file or a bad row stops the run before it starts, naming it", "[pretrain][probe]") {
  const auto dir = test::temp_dir("probe-bad");
  auto overrides = probe_overrides(dir + "/probe", "linear");
  std::ofstream(dir + "/probe/dev.tsv", std::ios::app) << "an unseen label\t9\n";
  auto config = test::tiny_run_config(dir, overrides);
  auto tokenizer = tok::load_tokenizer(config.tokenizer);
  const auto problems = pretrain::check_pretrain_inputs(config, *tokenizer);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("eval.probe") && Catch::Contains("dev.tsv:22"));
  config.eval.probe.train = dir + "/nowhere.tsv";
  const auto missing = pretrain::check_pretrain_paths(config);
  REQUIRE(missing.size() == 1);
  CHECK_THAT(missing[0], Catch::Contains("eval.probe.train") && Catch::Contains("nowhere.tsv"));
}

TEST_CASE("eval.probe: a reference measured under other probe settings is measured again on resume", "[pretrain][probe]") {
  const auto dir = test::temp_dir("probe-changed");
  auto overrides = probe_overrides(dir + "/probe", "linear");
  auto with = [&](const std::string& per_class) {
    auto o = overrides;
    o.push_back("eval.probe.labels_per_class=" + per_class);
    return test::tiny_run_config(dir, o);
  };
  auto all = with("0");
  all.run.output_dir = dir + "/all";
  REQUIRE(run(all).steps == 6);
  const auto expected = test::metrics_records(dir + "/all", "eval").at(6)["probe_accuracy_random_init"];

  auto few = with("2");
  few.run.output_dir = dir + "/changed";
  few.training.session_steps = 4;  // probed at step 3 with 2 examples per class
  REQUIRE(run(few).steps == 4);
  const auto stale = test::metrics_records(dir + "/changed", "eval").at(3)["probe_accuracy_random_init"];
  REQUIRE(stale != expected);  // the settings matter, so keeping it would be wrong
  auto resumed = with("0");
  resumed.run.output_dir = dir + "/changed";
  REQUIRE(run(resumed, train::find_latest_checkpoint(resumed.run.output_dir)).steps == 6);
  REQUIRE(test::metrics_records(dir + "/changed", "eval").at(6)["probe_accuracy_random_init"] == expected);
}

namespace {

std::map<std::string, int> checkpoint_file_opens;
std::string counted_dir;

void count_checkpoint_opens(const std::string& path) {
  if (path.rfind(counted_dir, 0) == 0) ++checkpoint_file_opens[std::filesystem::path(path).filename().string()];
}

}  // namespace

// Through the whole entry (checks before start, config comparison, model
// shape, resume): each file of the checkpoint is opened once, its checksum
// taken from the same mapping the weights and state are read from.
TEST_CASE("a resumed run opens each checkpoint file once", "[pretrain][resume]") {
  const auto dir = test::temp_dir("resume-opens");
  test::tiny_run_config(dir);  // writes run.yaml, the corpus and the tokenizer
  pretrain::PretrainRequest request;
  request.config_file = dir + "/run.yaml";
  request.overrides = {"run.output_dir=" + dir + "/run", "training.session_steps=2"};
  REQUIRE(pretrain::run_pretraining(request, dist::DistEnv{}).result.steps == 2);
  const auto checkpoint = train::find_latest_checkpoint(dir + "/run");
  REQUIRE(!checkpoint.empty());

  counted_dir = checkpoint + "/";
  checkpoint_file_opens.clear();
  set_file_open_observer(count_checkpoint_opens);
  request.resume = "latest";
  request.overrides = {"run.output_dir=" + dir + "/run", "training.session_steps=1"};
  const auto resumed = pretrain::run_pretraining(request, dist::DistEnv{});
  set_file_open_observer(nullptr);
  REQUIRE(resumed.result.steps == 3);

  std::set<std::string> listed;
  for (const auto& entry : std::filesystem::directory_iterator(checkpoint))
    listed.insert(entry.path().filename().string());
  for (const char* name : {"model.safetensors", "optimizer.safetensors", "rng.safetensors", "trainer_state.json",
                           "run_config.yaml", "config.json", "manifest.json"})
    CHECK(listed.count(name) == 1);
  for (const auto& name : listed) {
    INFO(name);
    CHECK(checkpoint_file_opens[name] == 1);
  }
}
