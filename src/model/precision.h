#pragma once
// Mixed precision: bf16 (or fp16 on CUDA) autocast around the forward pass,
// fp32 weights, loss and optimizer state.
#include <torch/torch.h>

#include <string>

namespace bf::model {

// Enables autocast for its lifetime and clears the cast cache on exit, as
// Python's torch.autocast does (the cache holds low-precision copies of the
// weights, stale after the optimizer step).
class AutocastGuard {
 public:
  AutocastGuard(const std::string& precision, const torch::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool cpu_ = false;
  bool gpu_ = false;
  bool prev_cpu_ = false;
  bool prev_gpu_ = false;
  at::ScalarType prev_cpu_dtype_ = at::kBFloat16;
  at::ScalarType prev_gpu_dtype_ = at::kHalf;
};

// True when the CPU has bf16 matrix instructions (AVX512_BF16 or AMX), which
// oneDNN needs for fast bf16 GEMMs, and ONEDNN_MAX_CPU_ISA does not cap
// oneDNN below them. Without them LibTorch's bf16 matmuls run
// in generic code, tens of times slower than fp32.
bool cpu_has_fast_bf16();

// cpu | cuda | auto -> a device; cuda without a GPU is an error naming the key.
torch::Device resolve_device(const std::string& name);

}  // namespace bf::model
