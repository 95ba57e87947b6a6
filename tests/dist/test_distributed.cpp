// Data-parallel runs on loopback through the CLI: `bertforge launch` with two
// Gloo ranks equals one process with the whole batch, resumes exactly, and a
// rank that dies takes the others down with an error instead of a hang.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "../finetune/ft_fixture.h"
#include "../finetune/token_fixture.h"
#include "../pretrain/pretrain_fixture.h"
#include "../support/cli_runner.h"
#include "../support/metrics_records.h"
#include "io/safetensors.h"
#include "dist/collective.h"
#include "util/fs.h"

using namespace bf;

namespace {

std::map<std::int64_t, double> metric_by_step(const std::string& run_dir, const std::string& type,
                                              const std::string& key) {
  std::map<std::int64_t, double> out;
  for (const auto& [step, j] : test::metrics_records(run_dir, type))
    if (j.contains(key)) out[step] = j[key].get<double>();
  return out;
}

// A port per test and process, so parallel ctest jobs do not meet each other. Below 32768:
// Linux hands out ephemeral ports from 32768 up (ip_local_port_range), so a port there can be
// held by any connection of a concurrent run (a CI run failed on exactly that).
int free_port(int offset) { return 20000 + static_cast<int>(::getpid() % 12000) + offset; }

std::string pretrain_config(const std::string& dir) {
  const auto yaml = test::tiny_run_yaml(dir, test::tiny_corpus(dir), test::wordpiece_dir(dir));
  const auto path = dir + "/run.yaml";
  write_file_atomic(path, yaml);
  return path;
}

// `bertforge launch` with two workers on loopback running `command`.
test::CommandResult launch_two(int port_offset, const std::string& command) {
  return test::run_bertforge("launch --nproc-per-node 2 --master-port " + std::to_string(free_port(port_offset)) +
                             " -- " + command);
}

// Two runs' per-step values agree within `relative` (fp32 sums in another order).
void require_close_by_step(const std::map<std::int64_t, double>& a, const std::map<std::int64_t, double>& b,
                           double relative) {
  for (const auto& [step, v] : a) {
    INFO("step " << step << ": " << v << " vs " << b.at(step));
    REQUIRE(std::abs(b.at(step) - v) <= relative * std::abs(v));
  }
}

double max_weight_difference(const std::string& a, const std::string& b) {
  io::SafetensorsReader ra(a), rb(b);
  double worst = 0;
  for (const auto& e : ra.entries()) {
    const auto x = ra.load(e.name).to(torch::kFloat64);
    const auto y = rb.load(e.name).to(torch::kFloat64);
    worst = std::max(worst, (x - y).abs().max().item<double>());
  }
  return worst;
}

// A fine-tuning run on 2 ranks x batch 4 against 1 process x batch 8,
// dropout off: every step's loss, the dev metric and the final weights agree.
void check_two_ranks_equal_one(const ft::FinetuneConfig& config, const std::string& dir, int port_offset,
                               const std::string& metric) {
  test::write_text(dir + "/task.yaml", config_to_yaml(config));
  const std::string common = " --set model.hidden_dropout_prob=0 --set model.attention_probs_dropout_prob=0"
                             " --set model.classifier_dropout=0 --set training.max_steps=6";
  auto one = test::run_bertforge("finetune --config " + dir + "/task.yaml" + common +
                                 " --set training.batch_size=8 --set run.output_dir=" + dir + "/one");
  INFO(one.output);
  REQUIRE(one.exit_code == 0);
  auto two = launch_two(port_offset, "finetune --config " + dir + "/task.yaml" + common +
                                         " --set training.batch_size=4 --set run.output_dir=" + dir + "/two");
  INFO(two.output);
  REQUIRE(two.exit_code == 0);
  const auto a = metric_by_step(dir + "/one", "train", "loss");
  const auto b = metric_by_step(dir + "/two", "train", "loss");
  REQUIRE(a.size() == 6);
  REQUIRE(b.size() == 6);
  require_close_by_step(a, b, 1e-4);
  const auto ma = metric_by_step(dir + "/one", "eval", metric);
  const auto mb = metric_by_step(dir + "/two", "eval", metric);
  REQUIRE(ma.size() == 2);
  for (const auto& [step, v] : ma) REQUIRE(mb.at(step) == Approx(v).margin(1e-9));
  CHECK(max_weight_difference(dir + "/one/model/model.safetensors", dir + "/two/model/model.safetensors") < 1e-4);
}

}  // namespace

TEST_CASE("gather_strided_rows restores the order of rows split over ranks, one process is the identity", "[dist]") {
  auto& one = dist::single_process();
  REQUIRE(one.world_size() == 1);
  auto rows = torch::arange(10).view({5, 2});
  REQUIRE(torch::equal(dist::gather_strided_rows(one, rows, 5), rows));
  std::vector<double> v{1.5, 2.0};
  one.sum(v);
  REQUIRE(v == std::vector<double>{1.5, 2.0});
}

TEST_CASE("launch: 2 ranks x batch 4 equal 1 process x batch 8 (losses and weights)", "[cli][dist][long]") {
  const auto dir = test::temp_dir("cli-dist-equal");
  const auto cfg = pretrain_config(dir);
  // Dropout draws differ between one process and two ranks; without it the runs are the same computation.
  const std::string common = " --set model.hidden_dropout_prob=0 --set model.attention_probs_dropout_prob=0"
                             " --set training.max_steps=20 --set eval.every_steps=10";
  auto one = test::run_bertforge("pretrain --config " + cfg + common + " --set training.batch_size=8 --set run.output_dir=" +
                                 dir + "/one");
  INFO(one.output);
  REQUIRE(one.exit_code == 0);
  auto two = launch_two(0, "pretrain --config " + cfg + common + " --set training.batch_size=4 --set run.output_dir=" +
                              dir + "/two");
  INFO(two.output);
  REQUIRE(two.exit_code == 0);

  const auto a = metric_by_step(dir + "/one", "train", "loss");
  const auto b = metric_by_step(dir + "/two", "train", "loss");
  REQUIRE(a.size() == 20);
  REQUIRE(b.size() == 20);
  // fp32 sums in another order (all-reduce vs one batch): equal to ~1e-6 relative.
  require_close_by_step(a, b, 1e-4);
  const auto eval_a = metric_by_step(dir + "/one", "eval", "mlm_loss");
  const auto eval_b = metric_by_step(dir + "/two", "eval", "mlm_loss");
  REQUIRE(eval_a.size() == 2);
  require_close_by_step(eval_a, eval_b, 1e-4);
  const double diff = max_weight_difference(dir + "/one/model/model.safetensors", dir + "/two/model/model.safetensors");
  INFO("largest weight difference " << diff);
  REQUIRE(diff < 1e-4);
  // Rank 0 alone writes the run directory; the others leave no trace there.
  REQUIRE(read_file(dir + "/two/config.yaml").find("distributed:") != std::string::npos);
}

TEST_CASE("launch: a 2-rank run stopped and resumed equals the uninterrupted one, other world sizes are refused", "[cli][dist][resume][long]") {
  const auto dir = test::temp_dir("cli-dist-resume");
  const auto cfg = pretrain_config(dir);
  const std::string common = " --set training.max_steps=12 --set checkpoint.every_steps=4";
  auto launch = [&](int port_offset, const std::string& args) {
    return launch_two(port_offset, "pretrain --config " + cfg + common + args);
  };
  auto straight = launch(10, " --set run.output_dir=" + dir + "/straight");
  INFO(straight.output);
  REQUIRE(straight.exit_code == 0);
  auto first = launch(11, " --set run.output_dir=" + dir + "/stopped --set training.session_steps=6");
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  REQUIRE(metric_by_step(dir + "/stopped", "train", "loss").size() == 6);
  auto rest = launch(12, " --set run.output_dir=" + dir + "/stopped --resume");
  INFO(rest.output);
  REQUIRE(rest.exit_code == 0);

  // With dropout on: each rank's generator is saved and restored, so the runs are bit-identical.
  const auto a = metric_by_step(dir + "/straight", "train", "loss");
  const auto b = metric_by_step(dir + "/stopped", "train", "loss");
  REQUIRE(a.size() == 12);
  REQUIRE(b.size() == 12);
  for (const auto& [step, loss] : a) {
    INFO("step " << step);
    REQUIRE(b.at(step) == loss);
  }
  REQUIRE(read_file(dir + "/straight/model/model.safetensors") == read_file(dir + "/stopped/model/model.safetensors"));

  auto single = test::run_bertforge("pretrain --config " + cfg + common + " --set run.output_dir=" + dir +
                                    "/straight --set training.max_steps=14 --resume");
  INFO(single.output);
  REQUIRE(single.exit_code != 0);
  REQUIRE_THAT(single.output, Catch::Contains("written by 2 process(es), this run has 1"));
}

TEST_CASE("a rank killed mid-run: the other exits with an error within the timeout, the last checkpoint resumes", "[cli][dist][long]") {
  const auto dir = test::temp_dir("cli-dist-kill");
  const auto cfg = pretrain_config(dir);
  const std::string bin = test::bertforge_bin();
  const int port = free_port(20);
  auto start_rank = [&](int rank) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", "2", 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      const std::string log = dir + "/rank" + std::to_string(rank) + ".log";
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      ::execl(bin.c_str(), bin.c_str(), "pretrain", "--config", cfg.c_str(), "--set", "training.max_steps=100000",
              "--set", "checkpoint.every_steps=2", "--set", "distributed.timeout_seconds=20", "--set",
              "eval.every_steps=0", static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    return pid;
  };
  const pid_t rank0 = start_rank(0);
  const pid_t rank1 = start_rank(1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (metric_by_step(dir + "/run", "train", "loss").size() < 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(metric_by_step(dir + "/run", "train", "loss").size() >= 5);
  ::kill(rank1, SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  int status = 0;
  ::waitpid(rank1, &status, 0);
  ::waitpid(rank0, &status, 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  const auto log0 = read_file(dir + "/rank0.log");
  INFO(log0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) != 0);
  REQUIRE(seconds < 60);  // the configured timeout is 20 s; a broken connection is usually seen at once
  REQUIRE_THAT(log0, Catch::Contains("distributed:"));

  // The newest complete checkpoint carries on, with both ranks.
  auto resumed = launch_two(21, "pretrain --config " + cfg +
                                     " --set training.max_steps=100000 --set checkpoint.every_steps=2"
                                     " --set eval.every_steps=0 --set training.session_steps=2 --resume");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  REQUIRE_THAT(resumed.output, Catch::Contains("resumed from"));
}

TEST_CASE("launch: fine-tuning on 2 ranks equals 1 process with the whole batch, dev metrics gathered",
          "[cli][dist][long]") {
  const auto dir = test::temp_dir("cli-dist-finetune");
  const auto train = test::sst2_slice("train", dir + "/train.tsv", 96);
  const auto dev = test::sst2_slice("dev", dir + "/dev.tsv", 37);  // not a multiple of 2: one rank has more
  check_two_ranks_equal_one(test::tiny_finetune_config(dir, train, dev), dir, 30, "accuracy");
}

TEST_CASE("launch: token classification on 2 ranks equals 1 process with the whole batch", "[cli][dist][long]") {
  const auto dir = test::temp_dir("dist-ner");
  const auto train = test::wnut_slice("train", dir + "/train.conll", 48);
  const auto dev = test::wnut_slice("dev", dir + "/dev.conll", 17);
  check_two_ranks_equal_one(test::tiny_token_config(dir, "token_classification", train, dev, test::vocab_dir(dir)), dir,
                            40, "f1");
}

TEST_CASE("launch: extractive QA on 2 ranks equals 1 process with the whole batch", "[cli][dist][long]") {
  const auto dir = test::temp_dir("dist-qa");
  const auto train = test::cmrc_subset("cmrc2018_train.json", dir + "/train.json", 16);
  const auto dev = test::cmrc_subset("cmrc2018_dev.json", dir + "/dev.json", 7);
  check_two_ranks_equal_one(
      test::tiny_token_config(dir, "question_answering", train, dev, test::chinese_vocab_dir(dir), {}, 96), dir, 50,
      "f1");
}
