#pragma once
// The `distributed:` config section. Who the processes are (rank, world
// size, rendezvous address) comes from the environment a launcher sets
// (bertforge launch, torchrun, Slurm): the same file runs on any number.
#include <cstdint>
#include <string>

#include "util/config_reader.h"

namespace bf::dist {

struct DistributedSection {
  std::string backend = "auto";          // auto (gloo on CPU, nccl on CUDA) | gloo | nccl
  double timeout_seconds = 300;          // a collective that waits longer fails the run (a rank died or hangs)
  // Gradients are all-reduced in flat buckets of about this size. Small
  // enough that the encoder's layers make several (mini's 13 MB besides the
  // word embedding would be one 25 MB bucket, complete only when backward
  // ends): 1.2 % of a 2-rank mini step left waiting vs 2.2 % with 25 MB.
  double bucket_mb = 4;
  template <class V>
  void visit(V& v) {
    v.field("backend", backend, one_of({"auto", "gloo", "nccl"}));
    v.field("timeout_seconds", timeout_seconds, positive<double>());
    v.field("bucket_mb", bucket_mb, positive<double>());
  }
};

}  // namespace bf::dist
