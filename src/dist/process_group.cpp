#include "dist/process_group.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "util/error.h"

namespace bf::dist {
namespace {

using Work = c10::intrusive_ptr<c10d::Work>;

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const DistEnv& env) {
  // The interface the peers reach this host on: GLOO_SOCKET_IFNAME as in
  // PyTorch; loopback for a single-host run on 127.0.0.1/localhost; else
  // this host's name.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost")
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

class ProcessGroupCollective : public dist::Collective {
 public:
  ProcessGroupCollective(DistEnv env, c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroup> pg,
                         double bucket_mb)
      : env_(std::move(env)),
        store_(std::move(store)),
        pg_(std::move(pg)),
        bucket_bytes_(static_cast<std::int64_t>(bucket_mb * 1024 * 1024)) {}

  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }

  std::function<void()> start_sum(torch::Tensor flat) override {
    std::vector<torch::Tensor> io{flat};
    auto work = pg_->allreduce(io);
    return [this, work] { wait(work, "gradient all-reduce"); };
  }

  std::int64_t gradient_bucket_bytes() const override { return bucket_bytes_; }

  void sum(std::vector<double>& values) override {
    if (values.empty()) return;
    auto t = torch::tensor(values, torch::kFloat64);
    std::vector<torch::Tensor> io{t};
    wait(pg_->allreduce(io), "all-reduce of step statistics");
    auto a = t.accessor<double, 1>();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = a[static_cast<std::int64_t>(i)];
  }

  void broadcast(std::vector<torch::Tensor>& tensors) override {
    torch::NoGradGuard no_grad;
    // One message per dtype and device: Gloo broadcasts one tensor per call.
    std::vector<bool> done(tensors.size(), false);
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (done[i]) continue;
      std::vector<std::size_t> group;
      for (std::size_t j = i; j < tensors.size(); ++j)
        if (!done[j] && tensors[j].scalar_type() == tensors[i].scalar_type() &&
            tensors[j].device() == tensors[i].device()) {
          group.push_back(j);
          done[j] = true;
        }
      std::vector<torch::Tensor> views;
      for (auto j : group) views.push_back(tensors[j].reshape({-1}));
      auto flat = torch::cat(views);
      std::vector<torch::Tensor> io{flat};
      c10d::BroadcastOptions options;
      options.rootRank = 0;
      wait(pg_->broadcast(io, options), "broadcast from rank 0");
      std::int64_t offset = 0;
      for (auto j : group) {
        tensors[j].copy_(flat.narrow(0, offset, tensors[j].numel()).view_as(tensors[j]));
        offset += tensors[j].numel();
      }
    }
  }

  torch::Tensor all_gather(const torch::Tensor& t) override {
    auto input = t.contiguous();
    std::vector<std::vector<torch::Tensor>> outputs(1);
    for (int r = 0; r < env_.world_size; ++r) outputs[0].push_back(torch::empty_like(input));
    std::vector<torch::Tensor> inputs{input};
    wait(pg_->allgather(outputs, inputs), "all-gather");
    return torch::stack(outputs[0]);
  }

  void barrier() override { wait(pg_->barrier(), "barrier"); }

 private:
  void wait(const Work& work, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      bf::fail("distributed: " + std::string(what) + " failed on rank " + std::to_string(env_.rank) + " of " +
               std::to_string(env_.world_size) + " (another rank has stopped, or the network failed): " +
               first_line(e.what()));
    }
  }
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  DistEnv env_;
  c10::intrusive_ptr<c10d::Store> store_;  // the process group holds it too; kept for its lifetime
  c10::intrusive_ptr<c10d::ProcessGroup> pg_;
  std::int64_t bucket_bytes_;
};

}  // namespace

std::string resolve_backend(const std::string& configured, torch::Device device) {
  const std::string backend = configured == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : configured;
  if (backend == "nccl") {
#ifndef USE_C10D_NCCL
    bf::fail("distributed.backend: nccl needs bertforge built against a CUDA LibTorch (this build has no NCCL); "
             "use gloo");
#endif
    if (!device.is_cuda()) bf::fail("distributed.backend: nccl works on CUDA devices only; this run is on " + device.str());
  }
  return backend;
}

std::unique_ptr<dist::Collective> connect(const DistEnv& env, const dist::DistributedSection& config,
                                           torch::Device device) {
  const auto backend = resolve_backend(config.backend, device);
  const auto timeout = to_ms(config.timeout_seconds);
  spdlog::info("distributed: rank {} of {} (local {} of {}), {} via {}:{}, timeout {} s", env.rank, env.world_size,
               env.local_rank, env.local_world_size, backend, env.master_addr, env.master_port,
               config.timeout_seconds);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<std::size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    bf::fail("distributed: rank " + std::to_string(env.rank) + " could not meet the others at " + env.master_addr + ":" +
             std::to_string(env.master_port) + " within " + fmt::format("{:g}", config.timeout_seconds) +
             " s (is MASTER_ADDR reachable, the port free on rank 0 and open in the firewall?): " + e.what());
  }
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  try {
    if (backend == "gloo") {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      options->devices.push_back(gloo_device(env));
      pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
    } else {
#ifdef USE_C10D_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
#endif
    }
  } catch (const std::exception& e) {
    bf::fail("distributed: rank " + std::to_string(env.rank) + " could not set up the " + backend +
             " process group: " + e.what());
  }
  return std::make_unique<ProcessGroupCollective>(env, store, pg, config.bucket_mb);
}

}  // namespace bf::dist
