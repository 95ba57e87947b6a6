#pragma once
// The instruction-set level at which bertforge's own vectorised kernels run
// (model/fused/kernels.cpp, train/adamw_kernel.cpp). Each kernel is compiled
// once per level and dispatched through cpu_capability(), instead of GCC's
// target_clones resolver, so that a level can be forced: the same switch as
// LibTorch's, ATEN_CPU_CAPABILITY=default|avx2|avx512, caps both LibTorch's
// kernels and ours, and the test suite runs under each (docs/development.md,
// "Portability of tests").
namespace bf {

enum class CpuCapability {
  portable = 0,  // x86-64 baseline (SSE2), or any other architecture
  avx2 = 1,
  avx512f = 2,
  x86_64_v4 = 3,  // AVX-512 with BW/VL/DQ/CD: 16-bit lanes in zmm registers
};

// What this CPU supports, ignoring the environment.
CpuCapability supported_cpu_capability();
// The level the kernels run at: supported_cpu_capability() capped by
// ATEN_CPU_CAPABILITY (default -> portable, avx2 -> avx2, avx512 -> no cap),
// read once; or what force_cpu_capability set last.
CpuCapability cpu_capability();
// Runs the kernels at `level` from now on (clamped to what the CPU supports)
// and returns the level in force before. For tests that compare the levels.
CpuCapability force_cpu_capability(CpuCapability level);

const char* to_string(CpuCapability level);

}  // namespace bf
