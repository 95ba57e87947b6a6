#pragma once
// What every benchmark measures with: wall time, the median of repeats, peak
// memory, and the machine's GEMM peak in the same process, so that figures
// from different machines compare as shares of that peak.
#include <torch/torch.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bf::bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start);
void sync(const torch::Device& device);  // waits for the GPU; nothing on CPU
double median(std::vector<double> v);
double peak_rss_gib();
// Minor page faults of this process so far: memory the kernel mapped in and
// zeroed (freshly allocated, or handed back and allocated again).
long minor_page_faults();

struct GemmPeaks {
  double fp32 = 0;
  double bf16 = 0;  // 0: not measured (a CPU without bf16 matrix instructions)
};
// Median GFLOP/s of ten 2048 x 2048 matmuls on all threads, per dtype.
GemmPeaks measure_gemm_peaks(const torch::Device& device);

// The 2048^2 matrices of the products, made once, so that sampling between
// timed steps allocates nothing.
struct GemmOperands {
  GemmOperands(torch::ScalarType dtype, const torch::Device& device);
  torch::Tensor a, b, c;
};

// The same peak sampled at several moments of a run. A shared VM's GEMM rate
// moves by a third within seconds (one 2048^2 product measured 90 to 168
// GFLOP/s within a minute on the development machine), so a peak taken once,
// before a run, can fall in a dip or a burst the timed steps never see. A
// benchmark samples before and between its timed repeats and divides by the
// median of every sample.
class GemmPeakSampler {
 public:
  // Makes the operands: construct it before what is timed.
  explicit GemmPeakSampler(const torch::Device& device);
  void sample(int reps);  // `reps` timed products per measured dtype
  GemmPeaks median() const;
  double fp32_min() const;
  double fp32_max() const;
  std::size_t samples() const { return fp32_.size(); }

 private:
  GemmOperands fp32_operands_;
  std::optional<GemmOperands> bf16_operands_;  // CPUs without bf16 matrix instructions: none
  std::vector<double> fp32_, bf16_rates_;
};

std::string gflops_or_na(double v);

}  // namespace bf::bench
