#pragma once
// A dist::Collective on PyTorch's c10d: rendezvous through a TCPStore on
// MASTER_ADDR:MASTER_PORT (rank 0 serves it), then ProcessGroupGloo on CPU or
// ProcessGroupNCCL on CUDA (when built against a CUDA LibTorch). Gradient
// buckets are summed asynchronously (gradient_reducer.h starts them during
// backward).
// Every collective has the configured timeout, and any failure (a rank died,
// a timeout) becomes an error that ends this rank: no hang forever.
#include <memory>

#include <torch/torch.h>

#include "dist/dist_env.h"
#include "dist/collective.h"
#include "dist/distributed_section.h"

namespace bf::dist {

// Blocks until all world_size ranks have joined (or the timeout passes).
std::unique_ptr<dist::Collective> connect(const DistEnv& env, const dist::DistributedSection& config,
                                           torch::Device device);

// The backend `auto` picks for a device; a name that cannot work there is an error.
std::string resolve_backend(const std::string& configured, torch::Device device);

}  // namespace bf::dist
