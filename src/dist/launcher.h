#pragma once
// `bertforge launch`: starts the worker processes of a data-parallel run on
// this host, each with the environment torchrun would give it, and watches
// them: when one fails, the others are stopped (SIGTERM, then SIGKILL after a
// grace period), so no rank waits forever for a dead peer.
#include <string>
#include <vector>

namespace bf::dist {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double grace_seconds = 30;
  std::vector<std::string> command;  // e.g. pretrain --config FILE
};

// Starts the workers (each `EXE command...` with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set), forwards one SIGINT or
// SIGTERM to them, and returns the first failing worker's exit code (0 when
// all succeed).
int launch_workers(const LaunchOptions& options);

}  // namespace bf::dist
