#include "bench/measure.h"

#include <sys/resource.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdio>

#include "train/precision.h"

namespace bf::bench {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_gib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Median GFLOP/s of a 2048 x 2048 matmul on all threads: the machine's
// practical peak, the yardstick for every other figure.
double gemm_peak_gflops(torch::ScalarType dtype, const torch::Device& device, int reps) {
  const std::int64_t n = 2048;
  auto options = torch::TensorOptions().dtype(dtype).device(device);
  auto a = torch::randn({n, n}, torch::TensorOptions().device(device)).to(options);
  auto b = torch::randn({n, n}, torch::TensorOptions().device(device)).to(options);
  auto c = torch::mm(a, b);
  std::vector<double> times;
  for (int i = 0; i < reps + 2; ++i) {
    sync(device);
    const auto start = Clock::now();
    torch::mm_out(c, a, b);
    sync(device);
    if (i >= 2) times.push_back(seconds_since(start));
  }
  return 2.0 * n * n * n / median(times) / 1e9;
}

// bf16 is left at 0 on a CPU without bf16 matrix instructions: LibTorch's
// generic bf16 GEMM there takes seconds per 2048^2 product and means nothing.
GemmPeaks measure_gemm_peaks(const torch::Device& device) {
  torch::NoGradGuard no_grad;
  GemmPeaks p;
  p.fp32 = gemm_peak_gflops(torch::kFloat32, device);
  if (!device.is_cpu() || train::cpu_has_fast_bf16()) p.bf16 = gemm_peak_gflops(torch::kBFloat16, device);
  return p;
}

std::string gflops_or_na(double v) {
  if (v <= 0) return "n/a (no AVX512_BF16/AMX)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GFLOP/s", v);
  return buf;
}

}  // namespace bf::bench
