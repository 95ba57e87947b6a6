#include "model/precision.h"

#include <ATen/autocast_mode.h>

#include <cctype>
#include <cstdlib>
#include <string>

#include "util/error.h"

namespace bf::model {

AutocastGuard::AutocastGuard(const std::string& precision, const torch::Device& device) {
  if (precision == "fp32") return;
  const auto dtype = precision == "bf16" ? at::kBFloat16 : at::kHalf;
  if (device.is_cuda()) {
    prev_gpu_ = at::autocast::is_enabled();
    prev_gpu_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(dtype);
    gpu_ = true;
  } else {
    if (dtype != at::kBFloat16) bf::fail("training.precision: fp16 needs a CUDA device; use bf16 on CPU");
    prev_cpu_ = at::autocast::is_cpu_enabled();
    prev_cpu_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(dtype);
    cpu_ = true;
  }
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!cpu_ && !gpu_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cpu_) {
    at::autocast::set_cpu_enabled(prev_cpu_);
    at::autocast::set_autocast_cpu_dtype(prev_cpu_dtype_);
  }
  if (gpu_) {
    at::autocast::set_enabled(prev_gpu_);
    at::autocast::set_autocast_gpu_dtype(prev_gpu_dtype_);
  }
}

namespace {

// oneDNN, which runs LibTorch's bf16 GEMMs, can be capped below the CPU's
// instructions (ONEDNN_MAX_CPU_ISA, e.g. AVX2 to stand in for an AVX2-only
// machine); below AVX512_CORE_BF16 it has no bf16 GEMM at all.
bool onednn_capped_below_bf16() {
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (cap == nullptr) cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (cap == nullptr || *cap == '\0') return false;
  std::string isa(cap);
  for (auto& c : isa) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return isa != "ALL" && isa.find("BF16") == std::string::npos && isa.find("AMX") == std::string::npos &&
         isa.find("FP16") == std::string::npos;
}

}  // namespace

bool cpu_has_fast_bf16() {
  if (onednn_capped_below_bf16()) return false;
#if defined(__x86_64__) && defined(__clang__)
  // clang (14, Debian's; used by the fuzz build) does not know "amx-bf16";
  // every CPU with AMX-BF16 also has AVX512-BF16.
  return __builtin_cpu_supports("avx512bf16");
#elif defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
#else
  return true;  // elsewhere trust the user's choice
#endif
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      bf::fail("run.device: cuda was asked for but no CUDA device is available (Debian's LibTorch is CPU-only; "
               "build against an official CUDA LibTorch)");
    return torch::kCUDA;
  }
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  bf::fail("run.device: unknown device '" + name + "' (cpu, cuda or auto)");
}

}  // namespace bf::model
