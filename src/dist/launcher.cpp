#include "dist/launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "util/error.h"

namespace bf::dist {
namespace {

std::atomic<int> g_forward_signal{0};
void on_signal(int sig) { g_forward_signal.store(sig); }

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

pid_t start_worker(const LaunchOptions& o, const std::string& exe, int local_rank) {
  const int world = o.nproc_per_node * o.nnodes;
  const int rank = o.node_rank * o.nproc_per_node + local_rank;
  const pid_t pid = fork();
  if (pid < 0) bf::fail(std::string("launch: fork failed: ") + std::strerror(errno));
  if (pid > 0) return pid;
  // The worker: its own process group (a Ctrl-C reaches the launcher, which
  // forwards it once), and SIGTERM when the launcher dies.
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  setenv("RANK", std::to_string(rank).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(local_rank).c_str(), 1);
  setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node).c_str(), 1);
  setenv("GROUP_RANK", std::to_string(o.node_rank).c_str(), 1);
  setenv("MASTER_ADDR", o.master_addr.c_str(), 1);
  setenv("MASTER_PORT", std::to_string(o.master_port).c_str(), 1);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(exe.c_str(), argv.data());
  std::fprintf(stderr, "launch: cannot run %s: %s\n", exe.c_str(), std::strerror(errno));
  std::_Exit(127);
}

}  // namespace

int launch_workers(const LaunchOptions& o) {
  if (o.command.empty()) bf::fail("launch: no command given (e.g. bertforge launch --nproc-per-node 2 -- pretrain --config FILE)");
  if (o.command.front() != "pretrain" && o.command.front() != "finetune")
    bf::fail("launch: runs `pretrain` or `finetune`, not `" + o.command.front() + "`");
  if (o.node_rank >= o.nnodes)
    bf::fail("launch: --node-rank " + std::to_string(o.node_rank) + " must be below --nnodes " + std::to_string(o.nnodes));
  const auto exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::vector<pid_t> pids;
  for (int r = 0; r < o.nproc_per_node; ++r) pids.push_back(start_worker(o, exe, r));
  std::fprintf(stderr, "launch: %d worker(s) on node %d of %d (world size %d), rendezvous %s:%d\n", o.nproc_per_node,
               o.node_rank, o.nnodes, o.nproc_per_node * o.nnodes, o.master_addr.c_str(), o.master_port);

  auto local_rank_of = [&](pid_t pid) {
    for (std::size_t i = 0; i < pids.size(); ++i)
      if (pids[i] == pid) return static_cast<int>(i);
    return -1;
  };
  std::vector<bool> running(pids.size(), true);
  int alive = static_cast<int>(pids.size());
  int result = 0;
  bool stopping = false;
  auto deadline = std::chrono::steady_clock::time_point::max();
  auto signal_all = [&](int sig) {
    for (std::size_t i = 0; i < pids.size(); ++i)
      if (running[i]) kill(pids[i], sig);
  };
  while (alive > 0) {
    if (const int sig = g_forward_signal.exchange(0); sig != 0) {
      // Forwarded once: the workers stop after the current step with a checkpoint.
      std::fprintf(stderr, "launch: %s received, passed on to the workers\n", strsignal(sig));
      signal_all(sig);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      const int i = local_rank_of(pid);
      if (i < 0) continue;
      running[static_cast<std::size_t>(i)] = false;
      --alive;
      const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      if (failed && !stopping) {
        std::fprintf(stderr, "launch: rank %d %s; stopping the other workers\n", o.node_rank * o.nproc_per_node + i,
                     describe(status).c_str());
        result = exit_code_of(status);
        stopping = true;
        signal_all(SIGTERM);
        deadline = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<std::int64_t>(o.grace_seconds * 1000));
      } else if (failed && result == 0) {
        result = exit_code_of(status);
      }
      continue;
    }
    if (stopping && std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "launch: workers still running %.0f s after SIGTERM; killing them\n", o.grace_seconds);
      signal_all(SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return result;
}

}  // namespace bf::dist
