#include "util/cpu_capability.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace bf {
namespace {

CpuCapability detect() {
#if defined(__GNUC__) && defined(__x86_64__)
  __builtin_cpu_init();
  const bool v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx2") &&
                  __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
  if (v4) return CpuCapability::x86_64_v4;
  if (__builtin_cpu_supports("avx512f")) return CpuCapability::avx512f;
  if (__builtin_cpu_supports("avx2")) return CpuCapability::avx2;
#endif
  return CpuCapability::portable;
}

// LibTorch's names (aten/src/ATen/native/DispatchStub.cpp): an unknown value
// leaves the level alone there too.
CpuCapability environment_cap() {
  const char* value = std::getenv("ATEN_CPU_CAPABILITY");
  if (value == nullptr) return CpuCapability::x86_64_v4;
  if (std::strcmp(value, "default") == 0) return CpuCapability::portable;
  if (std::strcmp(value, "avx2") == 0) return CpuCapability::avx2;
  return CpuCapability::x86_64_v4;
}

std::atomic<int>& level() {
  static std::atomic<int> current{static_cast<int>(std::min(supported_cpu_capability(), environment_cap()))};
  return current;
}

}  // namespace

CpuCapability supported_cpu_capability() {
  static const CpuCapability supported = detect();
  return supported;
}

CpuCapability cpu_capability() { return static_cast<CpuCapability>(level().load(std::memory_order_relaxed)); }

CpuCapability force_cpu_capability(CpuCapability wanted) {
  const auto clamped = std::min(wanted, supported_cpu_capability());
  return static_cast<CpuCapability>(level().exchange(static_cast<int>(clamped)));
}

const char* to_string(CpuCapability level) {
  switch (level) {
    case CpuCapability::portable: return "portable";
    case CpuCapability::avx2: return "avx2";
    case CpuCapability::avx512f: return "avx512f";
    case CpuCapability::x86_64_v4: return "x86-64-v4";
  }
  return "?";
}

}  // namespace bf
