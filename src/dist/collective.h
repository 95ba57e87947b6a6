#pragma once
// What the trainer needs from the other processes of a data-parallel run:
// sums started for gradient buckets (gradient_reducer.h averages with them),
// statistics summed, rank 0's tensors broadcast, rows gathered. One process is the identity (single_process()); process_group.h
// implements it on PyTorch's c10d process groups. The trainer only sees this
// interface, so train/ never includes c10d.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace bf::dist {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const { return 0; }
  virtual int world_size() const { return 1; }
  bool is_main() const { return rank() == 0; }

  // Starts summing a flat tensor over ranks in place; calling the returned
  // function waits for it (gradient_reducer.h averages gradients with it).
  virtual std::function<void()> start_sum(torch::Tensor flat) {
    (void)flat;
    return [] {};
  }
  // The size of the gradient buckets (distributed.bucket_mb).
  virtual std::int64_t gradient_bucket_bytes() const { return std::int64_t{4} << 20; }
  // Sums each value over ranks, in place.
  virtual void sum(std::vector<double>& values) { (void)values; }
  // Overwrites every rank's tensors with rank 0's.
  virtual void broadcast(std::vector<torch::Tensor>& tensors) { (void)tensors; }
  // [world_size, ...]: every rank's tensor (the same shape on every rank).
  virtual torch::Tensor all_gather(const torch::Tensor& t) { return t.unsqueeze(0); }
  virtual void barrier() {}
};

// The one-process identity.
Collective& single_process();

// Rank 0's parameters and buffers into every rank's model.
void broadcast_module(Collective& comm, torch::nn::Module& module);

// Rows of a tensor split over ranks (rank r holds rows r, r+W, r+2W, ... of
// `total`), gathered into every rank in the original order.
torch::Tensor gather_strided_rows(Collective& comm, const torch::Tensor& local, std::int64_t total);

// Gives rank r > 0 its own random stream (dropout), derived from (seed, rank);
// rank 0 keeps the one-process stream, so one rank equals a plain run.
void seed_rank_generators(std::int64_t seed, int rank);

}  // namespace bf::dist
