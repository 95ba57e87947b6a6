#include "model/fused/kernels.h"

#include <cmath>
#include <cstring>

namespace bf::model::fused {
namespace {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define BF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BF_CLONES
#endif
#define BF_INLINE inline __attribute__((always_inline))

constexpr int kLanes = 16;

// exp as Cephes' expf: e^x = 2^n * e^r with |r| <= ln2/2, a degree-6
// polynomial for e^r (about 1 ulp), 2^n built in the exponent bits. Branch
// free, so loops over it vectorise; 0 below the fp32 range as expf is, NaN
// kept.
BF_INLINE float exp_inline(float x) {
  const float lo = x > -87.3f ? x : -87.3f;  // not fmin/fmax: their NaN rules stop vectorisation
  const float clamped = lo < 88.7f ? lo : 88.7f;
  // n = round(x / ln2) by the 1.5 * 2^23 trick: std::floor would not
  // vectorise (GCC keeps it a libm call unless math may skip FP traps).
  const float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = clamped - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float e = x < -87.3f ? 0.0f : p * scale;
  return x != x ? x : e;  // NaN stays NaN
}

// Sum of v[0..n) in kLanes lanes, the lanes then added in order.
BF_INLINE float lane_sum(const float* v, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += v[j + l];
  float total = 0.0f;
  for (int l = 0; l < kLanes; ++l) total += acc[l];
  for (; j < n; ++j) total += v[j];
  return total;
}

// Sum of (v - c)^2.
BF_INLINE float lane_sum_sq(const float* v, float c, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float d = v[j + l] - c;
      acc[l] += d * d;
    }
  float total = 0.0f;
  for (int l = 0; l < kLanes; ++l) total += acc[l];
  for (; j < n; ++j) total += (v[j] - c) * (v[j] - c);
  return total;
}

// Sum of a * b.
BF_INLINE float lane_dot(const float* a, const float* b, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[j + l] * b[j + l];
  float total = 0.0f;
  for (int l = 0; l < kLanes; ++l) total += acc[l];
  for (; j < n; ++j) total += a[j] * b[j];
  return total;
}

// out[j] = in[j] * dropout factor of element first + j (in may equal out).
// One hash per pair of elements, as the unfused mask draws them: hashing is
// most of this loop's cost.
BF_INLINE void apply_dropout(const float* in, float* out, std::int64_t n, const DropoutDraw& d, std::int64_t first) {
  std::int64_t j = 0;
  if (n > 0 && (first & 1)) {
    out[0] = in[0] * dropout_factor(d, first);
    j = 1;
  }
  for (; j + 1 < n; j += 2) {
    const std::uint64_t bits = dropout_pair_bits(d, static_cast<std::uint64_t>(first + j) / 2);
    out[j] = in[j] * (dropout_drops(d, bits, false) ? 0.0f : d.keep_scale);
    out[j + 1] = in[j + 1] * (dropout_drops(d, bits, true) ? 0.0f : d.keep_scale);
  }
  if (j < n) out[j] = in[j] * dropout_factor(d, first + j);
}

}  // namespace

float exp_approx(float x) { return exp_inline(x); }

BF_CLONES
void dropout_add_layer_norm_forward(const float* y, const float* residual, const LayerNormArgs& a, float* z,
                                    float* out, float* mean, float* rstd, std::int64_t row_begin,
                                    std::int64_t row_end) {
  const std::int64_t cols = a.cols;
  const float inv_cols = 1.0f / static_cast<float>(cols);
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const float* yr = y + r * cols;
    const float* rr = residual + r * cols;
    float* zr = z + r * cols;
    float* outr = out + r * cols;
    if (a.dropout.active()) {
      apply_dropout(yr, zr, cols, a.dropout, r * cols);
      for (std::int64_t j = 0; j < cols; ++j) zr[j] += rr[j];
    } else {
      for (std::int64_t j = 0; j < cols; ++j) zr[j] = yr[j] + rr[j];
    }
    const float m = lane_sum(zr, cols) * inv_cols;
    const float var = lane_sum_sq(zr, m, cols) * inv_cols;
    const float s = 1.0f / std::sqrt(var + a.eps);
    mean[r] = m;
    rstd[r] = s;
    for (std::int64_t j = 0; j < cols; ++j) outr[j] = (zr[j] - m) * s * a.gamma[j] + a.beta[j];
  }
}

BF_CLONES
void dropout_add_layer_norm_backward(const float* grad_out, const float* z, const float* mean, const float* rstd,
                                     const LayerNormArgs& a, float* grad_z, float* grad_y, float* grad_gamma,
                                     float* grad_beta, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t cols = a.cols;
  const float inv_cols = 1.0f / static_cast<float>(cols);
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const float* gr = grad_out + r * cols;
    const float* zr = z + r * cols;
    float* dzr = grad_z + r * cols;
    const float m = mean[r], s = rstd[r];
    // dz holds the normalised row first, then the gradient.
    for (std::int64_t j = 0; j < cols; ++j) dzr[j] = (zr[j] - m) * s;
    for (std::int64_t j = 0; j < cols; ++j) {
      grad_gamma[j] += gr[j] * dzr[j];
      grad_beta[j] += gr[j];
    }
    // With g = grad_out * gamma: dz = rstd * (g - mean(g) - xhat * mean(g * xhat)).
    float acc_g[kLanes] = {}, acc_gx[kLanes] = {};
    std::int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const float g = gr[j + l] * a.gamma[j + l];
        acc_g[l] += g;
        acc_gx[l] += g * dzr[j + l];
      }
    float sum_g = 0.0f, sum_gx = 0.0f;
    for (int l = 0; l < kLanes; ++l) {
      sum_g += acc_g[l];
      sum_gx += acc_gx[l];
    }
    for (; j < cols; ++j) {
      const float g = gr[j] * a.gamma[j];
      sum_g += g;
      sum_gx += g * dzr[j];
    }
    const float mean_g = sum_g * inv_cols, mean_gx = sum_gx * inv_cols;
    for (std::int64_t k = 0; k < cols; ++k) dzr[k] = s * (gr[k] * a.gamma[k] - mean_g - dzr[k] * mean_gx);
    if (grad_y && grad_y != grad_z) {
      if (a.dropout.active())
        apply_dropout(dzr, grad_y + r * cols, cols, a.dropout, r * cols);
      else
        std::memcpy(grad_y + r * cols, dzr, static_cast<std::size_t>(cols) * sizeof(float));
    }
  }
}

BF_CLONES
void masked_softmax_dropout_forward(const float* scores, const SoftmaxArgs& a, float* probs, float* dropped,
                                    std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t cols = a.cols;
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const float* sr = scores + r * cols;
    const float* mr = a.mask + (r / a.rows_per_mask) * cols;
    float* pr = probs + r * cols;
    float top = -INFINITY;
    for (std::int64_t j = 0; j < cols; ++j) {
      const float v = sr[j] + mr[j];
      pr[j] = v;
      top = v > top ? v : top;
    }
    for (std::int64_t j = 0; j < cols; ++j) pr[j] = exp_inline(pr[j] - top);
    const float inv = 1.0f / lane_sum(pr, cols);
    for (std::int64_t j = 0; j < cols; ++j) pr[j] *= inv;
    if (a.dropout.active()) apply_dropout(pr, dropped + r * cols, cols, a.dropout, r * cols);
  }
}

BF_CLONES
void masked_softmax_dropout_backward(const float* grad_dropped, const float* probs, const SoftmaxArgs& a,
                                     float* grad_scores, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t cols = a.cols;
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const float* pr = probs + r * cols;
    float* gr = grad_scores + r * cols;
    if (a.dropout.active())
      apply_dropout(grad_dropped + r * cols, gr, cols, a.dropout, r * cols);
    else
      std::memcpy(gr, grad_dropped + r * cols, static_cast<std::size_t>(cols) * sizeof(float));
    const float dot = lane_dot(gr, pr, cols);
    for (std::int64_t j = 0; j < cols; ++j) gr[j] = pr[j] * (gr[j] - dot);
  }
}

BF_CLONES
void cross_entropy_forward(const float* logits, const std::int64_t* labels, std::int64_t cols, float* loss,
                           float* row_max, float* log_sum, float* correct, std::int64_t row_begin,
                           std::int64_t row_end) {
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const float* x = logits + r * cols;
    float lane_max[kLanes];
    for (int l = 0; l < kLanes; ++l) lane_max[l] = -INFINITY;
    std::int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) lane_max[l] = x[j + l] > lane_max[l] ? x[j + l] : lane_max[l];
    float top = -INFINITY;
    for (int l = 0; l < kLanes; ++l) top = lane_max[l] > top ? lane_max[l] : top;
    for (; j < cols; ++j) top = x[j] > top ? x[j] : top;
    float acc[kLanes] = {};
    j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) acc[l] += exp_inline(x[j + l] - top);
    float sum = 0.0f;
    for (int l = 0; l < kLanes; ++l) sum += acc[l];
    for (; j < cols; ++j) sum += exp_inline(x[j] - top);
    const float logs = std::log(sum);
    row_max[r] = top;
    log_sum[r] = logs;
    const std::int64_t label = labels[r];
    if (label < 0 || label >= cols) {
      loss[r] = 0.0f;
      correct[r] = 0.0f;
      continue;
    }
    loss[r] = -((x[label] - top) - logs);
    // argmax == label: the label holds the maximum and no earlier index does.
    bool first = x[label] == top;
    if (first) {
      int earlier = 0;
      for (std::int64_t k = 0; k < label; ++k) earlier |= x[k] == top;
      first = earlier == 0;
    }
    correct[r] = first ? 1.0f : 0.0f;
  }
}

BF_CLONES
void cross_entropy_backward(const float* logits, const std::int64_t* labels, const float* row_max,
                            const float* log_sum, float scale, std::int64_t cols, float* grad,
                            std::int64_t row_begin, std::int64_t row_end) {
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const float* x = logits + r * cols;
    float* g = grad + r * cols;
    const std::int64_t label = labels[r];
    if (label < 0 || label >= cols) {
      std::memset(g, 0, static_cast<std::size_t>(cols) * sizeof(float));
      continue;
    }
    const float top = row_max[r], logs = log_sum[r];
    for (std::int64_t j = 0; j < cols; ++j) g[j] = scale * exp_inline((x[j] - top) - logs);
    g[label] -= scale;
  }
}

}  // namespace bf::model::fused
