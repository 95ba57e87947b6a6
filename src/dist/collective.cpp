#include "dist/collective.h"

#include "util/error.h"

namespace bf::dist {

Collective& single_process() {
  static Collective identity;
  return identity;
}

void broadcast_module(Collective& comm, torch::nn::Module& module) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p.data());
  for (auto& b : module.buffers()) tensors.push_back(b);
  comm.broadcast(tensors);
}

torch::Tensor gather_strided_rows(Collective& comm, const torch::Tensor& local, std::int64_t total) {
  const auto world = comm.world_size();
  if (world == 1) return local;
  // all_gather wants the same shape everywhere: pad each rank's rows to the most any rank has.
  const std::int64_t per_rank = (total + world - 1) / world;
  auto sizes = local.sizes().vec();
  sizes[0] = per_rank;
  auto padded = torch::zeros(sizes, local.options());
  if (local.size(0) > 0) padded.narrow(0, 0, local.size(0)).copy_(local);
  auto all = comm.all_gather(padded);  // [W, per_rank, ...]
  // Row i of the whole lives on rank i % W at local row i / W.
  auto order = all.transpose(0, 1).reshape([&] {
    auto s = sizes;
    s[0] = per_rank * world;
    return s;
  }());
  return order.narrow(0, 0, total).contiguous();
}

void seed_rank_generators(std::int64_t seed, int rank) {
  if (rank == 0) return;
  torch::manual_seed(static_cast<std::uint64_t>(seed) * 1000003ULL + static_cast<std::uint64_t>(rank));
}

}  // namespace bf::dist
