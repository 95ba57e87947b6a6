// The gradient reducer against a stand-in for two ranks: buckets start during
// backward, in index order, each parameter once, and the averages land in
// .grad.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include "dist/gradient_reducer.h"

namespace {

// Two ranks whose other rank holds gradients equal to this one's times
// `other`: a sum is x * (1 + other), finished only when waited for. Records
// when each sum starts, relative to a backward in progress.
struct TwoRanks : bf::dist::Collective {
  double other = 3.0;
  bool in_backward = false;
  std::vector<std::int64_t> started_sizes;
  int started_in_backward = 0;
  int waited = 0;
  int world_size() const override { return 2; }
  std::function<void()> start_sum(torch::Tensor flat) override {
    started_sizes.push_back(flat.numel());
    if (in_backward) ++started_in_backward;
    return [this, flat]() mutable {
      flat.mul_(1.0 + other);
      ++waited;
    };
  }
};

struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(8, 16));
    b = register_module("b", torch::nn::Linear(16, 16));
    c = register_module("c", torch::nn::Linear(16, 4));
    unused = register_module("unused", torch::nn::Linear(4, 4));
  }
  torch::Tensor forward(const torch::Tensor& x) { return c(torch::relu(b(torch::relu(a(x))))); }
  torch::nn::Linear a{nullptr}, b{nullptr}, c{nullptr}, unused{nullptr};
};

}  // namespace

TEST_CASE("gradient reducer starts buckets during backward and averages into .grad", "[dist][reducer]") {
  torch::manual_seed(4);
  Net net;
  TwoRanks comm;
  // 64 floats per bucket: b's weight (256 floats) has its own; the rest pair up.
  bf::dist::GradientReducer reducer(comm, net.parameters(), 64 * 4);
  CHECK(reducer.bucket_count() >= 4);
  std::int64_t parameter_count = 0;
  for (const auto& p : net.parameters()) parameter_count += p.numel();

  for (int step = 1; step <= 3; ++step) {
    INFO("step " << step);
    auto x = torch::randn({5, 8});
    // Local gradients of two micro-batches, for reference.
    for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();
    net.forward(x).pow(2).sum().backward();
    net.forward(x * 2).pow(2).sum().backward();
    std::vector<torch::Tensor> local;
    for (auto& p : net.parameters()) local.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();

    // The same two micro-batches with the reducer: only the last backward is armed.
    comm.started_sizes.clear();
    comm.started_in_backward = comm.waited = 0;
    net.forward(x).pow(2).sum().backward();
    CHECK(comm.started_sizes.empty());
    reducer.arm();
    comm.in_backward = true;
    net.forward(x * 2).pow(2).sum().backward();
    comm.in_backward = false;
    CHECK(comm.waited == 0);  // nothing waited for inside backward
    CHECK(reducer.started_during_backward() == static_cast<std::size_t>(comm.started_in_backward));
    // The unused layer is registered last, so it opens the first bucket and
    // holds every bucket back in step 1; from step 2 the buckets follow the
    // gradients' arrival, the unused layer last.
    if (step == 1) CHECK(comm.started_in_backward == 0);
    if (step > 1) CHECK(comm.started_in_backward == static_cast<int>(reducer.bucket_count()) - 1);
    const auto buckets = static_cast<int>(reducer.bucket_count());  // step 1's finish rebuilds them
    reducer.finish();
    CHECK(comm.waited == buckets);
    CHECK(static_cast<int>(comm.started_sizes.size()) == buckets);

    // Every parameter summed exactly once (the unused layer's zeros included).
    std::int64_t total = 0;
    for (auto n : comm.started_sizes) total += n;
    CHECK(total == parameter_count);

    // The mean of this rank's gradient and the other's (other x this one).
    const auto params = net.parameters();
    for (std::size_t k = 0; k < params.size(); ++k) {
      INFO("parameter " << k);
      REQUIRE(params[k].grad().defined());
      CHECK(torch::allclose(params[k].grad(), local[k] * (1.0 + comm.other) / 2.0, 1e-6, 1e-7));
    }
    CHECK(net.unused->weight.grad().abs().sum().item<double>() == 0.0);
  }
}

TEST_CASE("gradient reducer's hooks go with it", "[dist][reducer]") {
  Net net;
  TwoRanks comm;
  {
    bf::dist::GradientReducer reducer(comm, net.parameters(), 1 << 20);
    reducer.arm();
  }
  net.forward(torch::randn({2, 8})).sum().backward();  // would call into a dead reducer
  CHECK(comm.started_sizes.empty());
}
