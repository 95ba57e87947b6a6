// Fault injection through the CLI (docs/reliability.md): a pretraining run
// killed with SIGKILL (at random and inside checkpoint writes) resumes from
// the newest complete checkpoint and ends exactly as an uninterrupted run; a
// checkpoint write that runs out of space (the BERTFORGE_FAULT_WRITE_LIMIT_BYTES
// hook) is reported and leaves the previous checkpoint intact; bad inputs fail
// before any work with a clear message. The long version (20+ kills, a real
// full tmpfs) is scripts/fault_inject.sh.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "../support/shared_data.h"
#include "../support/cli_runner.h"
#include "util/fs.h"

using namespace bf;
namespace fs = std::filesystem;

namespace {

// The last train/eval record of each step, timings removed.
std::map<std::pair<std::string, std::int64_t>, std::string> records(const std::string& run_dir) {
  std::map<std::pair<std::string, std::int64_t>, std::string> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] != "train" && j["type"] != "eval") continue;
    j.erase("tokens_per_s");
    j.erase("seconds");
    out[{j["type"].get<std::string>(), j["step"].get<std::int64_t>()}] = j.dump();
  }
  return out;
}

void require_same_run(const std::string& reference, const std::string& run) {
  const auto a = records(reference);
  const auto b = records(run);
  REQUIRE(!a.empty());
  REQUIRE(a.size() == b.size());
  for (const auto& [key, record] : a) {
    INFO(key.first << " record of step " << key.second);
    REQUIRE(b.count(key) == 1);
    REQUIRE(b.at(key) == record);
  }
  REQUIRE(read_file(reference + "/model/model.safetensors") == read_file(run + "/model/model.safetensors"));
}

std::vector<std::string> checkpoint_names(const std::string& run_dir, const std::string& prefix = "step-") {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run_dir + "/checkpoints", ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A fixture: BERT's uncased vocabulary (and the Chinese one, "another
// tokenizer"), 1,500 lines of en_pretrain, an L1 H32 model on one thread.
struct FaultFixture {
  std::string dir;
  std::string config;
  explicit FaultFixture(const std::string& name, int steps = 12) : dir(test::temp_dir(name)) {
    for (const auto& [sub, vocab] : {std::pair<std::string, std::string>{"tok-en", "bert-base-uncased-vocab.txt"},
                                     {"tok-zh", "bert-base-chinese-vocab.txt"}}) {
      fs::create_directories(dir + "/" + sub);
      fs::copy_file(test::shared_path("data/bert_vocab/" + vocab), dir + "/" + sub + "/vocab.txt");
    }
    {
      std::ifstream in(test::shared_path("data/en_pretrain/en_pretrain.txt"));
      std::ofstream out(dir + "/corpus.txt");
      std::string line;
      for (int i = 0; i < 1500 && std::getline(in, line); ++i) out << line << "\n";
    }
    config = dir + "/run.yaml";
    write_file_atomic(config,
                      "run: {name: faults, output_dir: " + dir + "/run, seed: 7, device: cpu, threads: 1}\n"
                      "tokenizer: " + dir + "/tok-en\n"
                      "data:\n"
                      "  inputs: [{path: " + dir + "/corpus.txt, format: google}]\n"
                      "  output: " + dir + "/data\n"
                      "  heldout_fraction: 0.1\n"
                      "  max_seq_length: 48\n"
                      "  max_predictions_per_seq: 8\n"
                      "  loader_threads: 1\n"
                      "model: {preset: tiny, num_hidden_layers: 1, hidden_size: 32, num_attention_heads: 2,"
                      " intermediate_size: 64, max_position_embeddings: 64}\n"
                      "optimizer: {lr: 1.0e-3}\n"
                      "schedule: {name: linear, warmup_steps: 2}\n"
                      "training: {batch_size: 4, max_steps: " + std::to_string(steps) + "}\n"
                      "eval: {every_steps: 6, max_batches: 2}\n"
                      "checkpoint: {every_steps: 2, keep_last: 2}\n"
                      "logging: {every_steps: 1, progress_seconds: 1000}\n");
  }
  std::string run(const std::string& name) const { return dir + "/" + name; }
  // `pretrain` into run directory `run_dir`, with more arguments.
  test::CommandResult pretrain(const std::string& run_dir, const std::string& more = "") const {
    return test::run_bertforge("pretrain --config " + config + " --set run.output_dir=" + run_dir + " " + more);
  }
};

// Sets environment variables for the commands run while it lives.
struct ScopedEnv {
  std::vector<std::string> names;
  ScopedEnv(std::initializer_list<std::pair<const char*, std::string>> vars) {
    for (const auto& [k, v] : vars) {
      ::setenv(k, v.c_str(), 1);
      names.push_back(k);
    }
  }
  ~ScopedEnv() {
    for (const auto& k : names) ::unsetenv(k.c_str());
  }
};

// A file's text, "" while it does not exist yet.
std::string text_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool wait_until(const std::function<bool()>& done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Starts `bertforge pretrain` in the background, its output in `log`.
pid_t start_pretrain(const FaultFixture& f, const std::string& run_dir, bool resume, const std::string& log,
                     int write_delay_ms) {
  const std::string bin = test::bertforge_bin();
  const std::string set = "run.output_dir=" + run_dir;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (std::freopen(log.c_str(), "w", stderr) == nullptr || ::dup2(::fileno(stderr), 1) < 0) std::_Exit(126);
    if (write_delay_ms > 0) ::setenv("BERTFORGE_FAULT_WRITE_DELAY_MS", std::to_string(write_delay_ms).c_str(), 1);
    if (resume)
      ::execl(bin.c_str(), bin.c_str(), "pretrain", "--config", f.config.c_str(), "--set", set.c_str(), "--resume",
              static_cast<char*>(nullptr));
    else
      ::execl(bin.c_str(), bin.c_str(), "pretrain", "--config", f.config.c_str(), "--set", set.c_str(),
              static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("SIGKILL at random moments and inside checkpoint writes: --resume continues exactly", "[cli][faults][long]") {
  FaultFixture f("faults-kill", 16);
  const auto reference = f.run("reference");
  auto straight = f.pretrain(reference);
  INFO(straight.output);
  REQUIRE(straight.exit_code == 0);

  const auto run = f.run("killed");
  std::mt19937 rng(12345);
  int inside_writes = 0;
  for (int k = 0; k < 3; ++k) {
    const bool aimed = k != 1;  // kills 1 and 3 land inside a checkpoint write, kill 2 at a random moment
    const auto names = checkpoint_names(run);
    const std::string expected = names.empty() ? "" : names.back();
    const auto log = f.run("kill" + std::to_string(k) + ".log");
    const pid_t pid = start_pretrain(f, run, !expected.empty(), log, aimed ? 40 : 0);
    if (!expected.empty()) {
      INFO("kill " << k);
      REQUIRE(wait_until([&] { return text_of(log).find("resumed from") != std::string::npos; }, 60));
      // The newest complete checkpoint, never a partial (.tmp-*) one.
      REQUIRE_THAT(text_of(log), Catch::Contains("resumed from " + run + "/checkpoints/" + expected + " at step"));
    }
    // A checkpoint newer than the one resumed from, in the making (.tmp-step-*) or complete.
    auto newer = [&](const std::string& prefix) {
      const auto n = checkpoint_names(run, prefix);
      return !n.empty() && n.back().substr(prefix.size()) > (expected.empty() ? "" : expected.substr(5));
    };
    if (aimed) {
      // Inside the write of a checkpoint, with a complete one to resume from.
      REQUIRE(wait_until([&] { return !checkpoint_names(run).empty() && newer(".tmp-step-"); }, 60));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 100)(rng)));
    } else {
      // Anywhere once this session has written a checkpoint: a step, a write, a prune.
      REQUIRE(wait_until([&] { return newer("step-"); }, 60));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 150)(rng)));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO(text_of(log));
    REQUIRE(WIFSIGNALED(status));  // killed, not finished
    if (!checkpoint_names(run, ".tmp-step-").empty()) ++inside_writes;
  }
  CHECK(inside_writes >= 1);
  const auto names = checkpoint_names(run);
  REQUIRE(!names.empty());
  auto resumed = f.pretrain(run, "--resume");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  REQUIRE_THAT(resumed.output, Catch::Contains("resumed from " + run + "/checkpoints/" + names.back()));
  REQUIRE(checkpoint_names(run, ".tmp").empty());  // the partial checkpoints were cleared
  require_same_run(reference, run);
}

TEST_CASE("disk full while writing a checkpoint: reported, the previous checkpoint intact, stop or continue", "[cli][faults][long]") {
  FaultFixture f("faults-full", 8);
  const auto reference = f.run("reference");
  auto straight = f.pretrain(reference);
  INFO(straight.output);
  REQUIRE(straight.exit_code == 0);
  std::uintmax_t checkpoint_bytes = 0;
  for (const auto& e : fs::directory_iterator(reference + "/checkpoints/" + checkpoint_names(reference).back()))
    checkpoint_bytes += e.file_size();
  // Room for the run's first files and one checkpoint (step 2), not for the next (step 4).
  const auto limit = std::to_string(checkpoint_bytes + checkpoint_bytes / 2 + 40000);

  SECTION("on_write_error: stop (the default) ends the run; --resume continues from the intact checkpoint") {
    const auto run = f.run("stop");
    {
      ScopedEnv env{{"BERTFORGE_FAULT_WRITE_LIMIT_BYTES", limit}};
      auto full = f.pretrain(run);
      INFO(full.output);
      REQUIRE(full.exit_code == 1);
      REQUIRE_THAT(full.output, Catch::Contains("checkpoint at step 4 was not written") &&
                                    Catch::Contains("No space left on device") &&
                                    Catch::Contains("the previous checkpoints are intact") &&
                                    Catch::Contains("on_write_error: stop"));
    }
    REQUIRE(checkpoint_names(run) == std::vector<std::string>{"step-00000002"});
    REQUIRE(checkpoint_names(run, ".tmp").empty());
    auto resumed = f.pretrain(run, "--resume");
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    REQUIRE_THAT(resumed.output, Catch::Contains("step-00000002 at step 2"));
    require_same_run(reference, run);
  }
  SECTION("on_write_error: continue trains on and writes the next checkpoint once there is space") {
    const auto run = f.run("continue");
    ScopedEnv env{{"BERTFORGE_FAULT_WRITE_LIMIT_BYTES", limit}, {"BERTFORGE_FAULT_WRITE_FAILURES", "1"}};
    auto full = f.pretrain(run, "--set checkpoint.on_write_error=continue");
    INFO(full.output);
    REQUIRE(full.exit_code == 0);
    REQUIRE_THAT(full.output, Catch::Contains("checkpoint at step 4 was not written") &&
                                  Catch::Contains("No space left on device") &&
                                  Catch::Contains("training continues"));
    REQUIRE_THAT(read_file(run + "/metrics.jsonl"), Catch::Contains(R"("event":"checkpoint_failed")"));
    REQUIRE(checkpoint_names(run, ".tmp").empty());
    require_same_run(reference, run);
  }
}

TEST_CASE("bad inputs fail before any work, with a clear message", "[cli][faults]") {
  FaultFixture f("faults-inputs", 2);
  const auto reference = f.run("reference");
  auto straight = f.pretrain(reference);  // builds data/ with the English tokenizer
  INFO(straight.output);
  REQUIRE(straight.exit_code == 0);
  const auto checkpoint = reference + "/checkpoints/" + checkpoint_names(reference).back();

  auto refused = [&](const std::string& run, const std::string& more) {
    auto r = f.pretrain(run, more);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, !Catch::Contains("data build:"));  // nothing was built or trained
    CHECK_FALSE(fs::exists(run + "/metrics.jsonl"));
    CHECK_FALSE(fs::exists(run + "/checkpoints"));
    return r.output;
  };

  SECTION("read-only output directory") {
    const auto ro = f.run("readonly");
    fs::create_directories(ro);
    bool mounted = false;
    if (::geteuid() == 0) {
      // chmod does not stop root: a read-only mount does.
      mounted = std::system(("mount -t tmpfs -o ro,size=64k tmpfs '" + ro + "' 2>/dev/null").c_str()) == 0;
      if (!mounted) WARN("root without mount permission: the read-only output directory case is skipped");
    } else {
      fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    }
    if (mounted || ::geteuid() != 0) {
      const auto out = refused(ro + "/run", "");
      if (mounted) std::system(("umount '" + ro + "'").c_str());
      fs::permissions(ro, fs::perms::owner_all);
      CHECK_THAT(out, Catch::Contains("cannot start") && Catch::Contains("run.output_dir") &&
                          Catch::Contains("is not writable"));
    }
  }
  SECTION("missing input file") {
    const auto out = refused(f.run("missing"), "--set data.output=" + f.run("data2") + " --set 'data.inputs=[{path: " +
                                                   f.run("no-such.txt") + ", format: google}]'");
    CHECK_THAT(out, Catch::Contains("data.inputs[0]") && Catch::Contains("no-such.txt' does not exist"));
    const auto tok = refused(f.run("missing-tok"), "--set tokenizer=" + f.run("no-such-tokenizer"));
    CHECK_THAT(tok, Catch::Contains("tokenizer: '") && Catch::Contains("does not exist"));
  }
  SECTION("a data directory built with another tokenizer") {
    for (const std::string more : {"", " --set 'data.inputs=[]'"}) {
      const auto out = refused(f.run("other-tok"), "--set tokenizer=" + f.run("tok-zh") + more);
      CHECK_THAT(out, Catch::Contains("data.output") && Catch::Contains("built with another tokenizer") &&
                          Catch::Contains("vocab 30522") && Catch::Contains("vocab 21128"));
    }
    REQUIRE(fs::exists(f.run("data/manifest.json")));  // the English shards were not rebuilt over
  }
  SECTION("a checkpoint of another model size") {
    const auto out = refused(f.run("other-size"), "--set model.hidden_size=64 --resume " + checkpoint);
    CHECK_THAT(out, Catch::Contains("refusing to resume") && Catch::Contains("model.hidden_size: 32 -> 64"));
    const auto forced =
        refused(f.run("other-size2"), "--set model.hidden_size=64 --allow-config-change --resume " + checkpoint);
    CHECK_THAT(forced, Catch::Contains("holds a model of another size") &&
                           Catch::Contains("hidden_size: 32 there vs 64 in this config"));
    const auto init = refused(f.run("other-size3"), "--set model.num_hidden_layers=2 --init-from " + checkpoint);
    CHECK_THAT(init, Catch::Contains("model.init_from") && Catch::Contains("num_hidden_layers: 1 there vs 2"));
  }
}
