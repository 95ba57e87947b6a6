#include "train/rng_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <map>

#include "util/error.h"

namespace bf::train {

std::vector<std::pair<std::string, torch::Tensor>> capture_rng_state() {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  auto cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    out.emplace_back("cpu", cpu.get_state());
  }
  if (torch::cuda::is_available()) {
    const auto devices = static_cast<int>(torch::cuda::device_count());
    for (int d = 0; d < devices; ++d) {
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(d)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      out.emplace_back("cuda:" + std::to_string(d), gen.get_state());
    }
  }
  return out;
}

void restore_rng_state(const std::map<std::string, torch::Tensor>& state) {
  auto it = state.find("cpu");
  if (it == state.end()) bf::fail("checkpoint has no CPU generator state (rng.safetensors)");
  auto cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu.set_state(it->second);
  }
  if (torch::cuda::is_available()) {
    const auto devices = static_cast<int>(torch::cuda::device_count());
    for (int d = 0; d < devices; ++d) {
      auto found = state.find("cuda:" + std::to_string(d));
      if (found == state.end()) continue;  // resumed on more GPUs than saved: those start fresh
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(d)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(found->second);
    }
  }
}

RngStateGuard::RngStateGuard() {
  for (auto& [name, state] : capture_rng_state()) saved_[name] = state;
}

RngStateGuard::~RngStateGuard() { restore_rng_state(saved_); }

}  // namespace bf::train
