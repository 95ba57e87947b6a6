// End to end through the CLI: a pretraining run stopped by SIGTERM in the
// middle writes a checkpoint, exits 0, and `--resume` continues it exactly as
// if it had never stopped.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "../pretrain/pretrain_fixture.h"
#include "../support/cli_runner.h"
#include "util/fs.h"

using namespace bf;

namespace {

std::map<std::int64_t, double> losses(const std::string& run_dir) {
  std::map<std::int64_t, double> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "train") out[j["step"].get<std::int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

std::string write_config(const std::string& dir, const std::string& run_name, int steps) {
  const auto tokenizer = test::wordpiece_dir(dir);
  const auto corpus = test::tiny_corpus(dir);
  std::string yaml = test::tiny_run_yaml(dir, corpus, tokenizer);
  const auto pos = yaml.find(dir + "/run,");
  yaml.replace(pos, dir.size() + 4, dir + "/" + run_name);
  yaml.replace(yaml.find("max_steps: 6"), 12, "max_steps: " + std::to_string(steps));
  const auto path = dir + "/" + run_name + ".yaml";
  write_file_atomic(path, yaml);
  return path;
}

}  // namespace

TEST_CASE("SIGTERM mid-run: checkpoint, exit 0, resume equals the uninterrupted run", "[cli][resume][long]") {
  const auto dir = test::temp_dir("cli-sigterm");
  const int steps = 40;
  const auto straight_cfg = write_config(dir, "straight", steps);
  auto straight = test::run_bertforge("pretrain --config " + straight_cfg);
  INFO(straight.output);
  REQUIRE(straight.exit_code == 0);

  const auto cfg = write_config(dir, "stopped", steps);
  const std::string bin = test::bertforge_bin();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string log = dir + "/stopped.log";
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    ::execl(bin.c_str(), bin.c_str(), "pretrain", "--config", cfg.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  // Signal once a few steps are logged, while the run is mid-way.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (losses(dir + "/stopped").size() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  INFO(read_file(dir + "/stopped.log"));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto done = losses(dir + "/stopped").size();
  REQUIRE(done >= 3);
  REQUIRE(done < static_cast<std::size_t>(steps));  // it really stopped mid-run

  auto resumed = test::run_bertforge("pretrain --config " + cfg + " --resume");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  const auto a = losses(dir + "/straight");
  const auto b = losses(dir + "/stopped");
  REQUIRE(a.size() == static_cast<std::size_t>(steps));
  REQUIRE(b.size() == a.size());
  for (const auto& [step, loss] : a) {
    INFO("step " << step);
    REQUIRE(b.at(step) == loss);
  }
  REQUIRE(read_file(dir + "/straight/model/model.safetensors") == read_file(dir + "/stopped/model/model.safetensors"));
}

TEST_CASE("pretrain refuses to resume with a changed model config", "[cli][resume]") {
  const auto dir = test::temp_dir("cli-changed");
  const auto cfg = write_config(dir, "run", 2);
  REQUIRE(test::run_bertforge("pretrain --config " + cfg).exit_code == 0);
  auto r = test::run_bertforge("pretrain --config " + cfg + " --resume --set model.hidden_dropout_prob=0.3");
  REQUIRE(r.exit_code == 1);
  REQUIRE_THAT(r.output, Catch::Contains("model.hidden_dropout_prob") && Catch::Contains("refusing to resume"));
  auto again = test::run_bertforge("pretrain --config " + cfg);
  REQUIRE(again.exit_code == 1);
  REQUIRE_THAT(again.output, Catch::Contains("already holds checkpoints"));
  auto longer = test::run_bertforge("pretrain --config " + cfg + " --resume --set training.max_steps=4");
  INFO(longer.output);
  REQUIRE(longer.exit_code == 0);
  REQUIRE_THAT(longer.output, Catch::Contains("after 4 steps"));
}
