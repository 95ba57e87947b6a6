#include "bench/measure.h"

#include <sys/resource.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdio>

#include "model/precision.h"

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

namespace {

// GFLOP/s of each of `reps` n x n matmuls on all threads, after an untimed
// one: the machine's practical peak, the yardstick for every other figure.
std::vector<double> gemm_rates(GemmOperands& m, int reps) {
  torch::NoGradGuard no_grad;
  const auto device = m.a.device();
  const double n = static_cast<double>(m.a.size(0));
  std::vector<double> rates;
  for (int i = 0; i < reps + 1; ++i) {
    sync(device);
    const auto start = Clock::now();
    torch::mm_out(m.c, m.a, m.b);
    sync(device);
    if (i >= 1) rates.push_back(2.0 * n * n * n / seconds_since(start) / 1e9);
  }
  return rates;
}

// bf16 is left at 0 on a CPU without bf16 matrix instructions: LibTorch's
// generic bf16 GEMM there takes seconds per 2048^2 product and means nothing.
bool measures_bf16(const torch::Device& device) { return !device.is_cpu() || model::cpu_has_fast_bf16(); }

}  // namespace

GemmOperands::GemmOperands(torch::ScalarType dtype, const torch::Device& device) {
  const std::int64_t n = 2048;
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  a = torch::randn({n, n}, torch::TensorOptions().device(device)).to(options);
  b = torch::randn({n, n}, torch::TensorOptions().device(device)).to(options);
  c = torch::empty({n, n}, options);
}

GemmPeakSampler::GemmPeakSampler(const torch::Device& device) : fp32_operands_(torch::kFloat32, device) {
  if (measures_bf16(device)) bf16_operands_.emplace(torch::kBFloat16, device);
}

void GemmPeakSampler::sample(int reps) {
  for (double r : gemm_rates(fp32_operands_, reps)) fp32_.push_back(r);
  if (bf16_operands_)
    for (double r : gemm_rates(*bf16_operands_, reps)) bf16_rates_.push_back(r);
}

GemmPeaks GemmPeakSampler::median() const { return {bench::median(fp32_), bench::median(bf16_rates_)}; }

double GemmPeakSampler::fp32_min() const { return fp32_.empty() ? 0 : *std::min_element(fp32_.begin(), fp32_.end()); }

double GemmPeakSampler::fp32_max() const { return fp32_.empty() ? 0 : *std::max_element(fp32_.begin(), fp32_.end()); }

GemmPeaks measure_gemm_peaks(const torch::Device& device) {
  GemmPeakSampler sampler(device);
  sampler.sample(10);
  return sampler.median();
}

std::string gflops_or_na(double v) {
  if (v <= 0) return "n/a (no AVX512_BF16/AMX)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GFLOP/s", v);
  return buf;
}

}  // namespace bf::bench
