#pragma once
// Who this process is in a data-parallel run, read from the environment that
// torchrun (and `bertforge launch`, Slurm or Kubernetes scripts written for
// torchrun) sets: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT. Without WORLD_SIZE (or with 1) the run is a
// single process.
#include <string>

namespace bf::dist {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;

  bool distributed() const { return world_size > 1; }
  // Validated; a bad or missing variable is an error naming it.
  static DistEnv from_environment();
};

}  // namespace bf::dist
