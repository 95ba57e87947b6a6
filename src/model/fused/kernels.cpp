#include "model/fused/kernels.h"

#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "util/cpu_dispatch.h"

namespace bf::model::fused {
namespace {

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

// erf as Abramowitz & Stegun 7.1.26: 1 - t (a1 + a2 t + ... + a5 t^4)
// e^(-x^2) with t = 1 / (1 + p|x|), odd in x. Branch free like exp_inline.
// Also gives e^(-x^2), which GELU's backward needs too.
BF_INLINE float erf_and_gauss(float x, float* gauss) {
  const float a = x < 0.0f ? -x : x;
  const float t = 1.0f / (0.3275911f * a + 1.0f);
  float r = 1.061405429f;
  r = r * t + -1.453152027f;
  r = r * t + 1.421413741f;
  r = r * t + -0.284496736f;
  r = r * t + 0.254829592f;
  *gauss = exp_inline(-(a * a));
  const float e = 1.0f - r * t * *gauss;
  return x < 0.0f ? -e : e;
}
BF_INLINE float erf_inline(float x) {
  float gauss;
  return erf_and_gauss(x, &gauss);
}

// Loads and stores in fp32 arithmetic: bf16 is the high half of an fp32,
// stored rounded to nearest even (NaN kept quiet), as c10::BFloat16 rounds.
BF_INLINE float widen(float x) { return x; }
BF_INLINE float widen(bf16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
BF_INLINE void put(float* p, float v) { *p = v; }
BF_INLINE void put(bf16_t* p, float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  *p = static_cast<bf16_t>(v != v ? 0x7fc0u : rounded);
}

// An fp32 row buffer per thread, for rows kept in bf16.
float* row_scratch(std::int64_t n) {
  thread_local std::vector<float> buffer;
  if (static_cast<std::int64_t>(buffer.size()) < n) buffer.resize(static_cast<std::size_t>(n));
  return buffer.data();
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

// The largest of v[0..n), NaNs passed over. A running maximum doesn't
// vectorise (GCC keeps its NaN rules scalar even in lanes), so the lanes are
// GCC vectors; a maximum is the same in any order.
template <class T>
BF_INLINE float largest(const T* v, std::int64_t n) {
  typedef float lanes8 __attribute__((vector_size(32)));
  const float low = -INFINITY;
  lanes8 a = {low, low, low, low, low, low, low, low}, b = a;
  std::int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    float w[16];
    for (int l = 0; l < 16; ++l) w[l] = widen(v[j + l]);
    lanes8 x, y;
    std::memcpy(&x, w, sizeof x);
    std::memcpy(&y, w + 8, sizeof y);
    a = a < x ? x : a;
    b = b < y ? y : b;
  }
  float top = low;
  for (int l = 0; l < 8; ++l) {
    top = top < a[l] ? a[l] : top;
    top = top < b[l] ? b[l] : top;
  }
  for (; j < n; ++j) top = top < widen(v[j]) ? widen(v[j]) : top;
  return top;
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
template <class B>
BF_INLINE float lane_dot(const float* a, const B* b, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[j + l] * widen(b[j + l]);
  float total = 0.0f;
  for (int l = 0; l < kLanes; ++l) total += acc[l];
  for (; j < n; ++j) total += a[j] * widen(b[j]);
  return total;
}

// out[j] = in[j] * dropout factor of element first + j (in may equal out).
// Hashing is most of this loop's cost, so the hashes of a chunk are computed
// first in a loop of their own, which vectorises (one hash per pair of
// elements, as dropout_mask.h pairs them), and then applied.
template <class In, class Out>
BF_INLINE void apply_dropout(const In* in, Out* out, std::int64_t n, const DropoutDraw& d, std::int64_t first) {
  constexpr std::int64_t kChunk = 256;
  std::uint32_t bits[kChunk + 2];
  // p < 1, so the threshold is below 2^32 and compares as 32 bits.
  const auto threshold = static_cast<std::uint32_t>(d.threshold);
  const float keep_scale = d.keep_scale;  // a local, so the select needs no masked load
  for (std::int64_t c = 0; c < n; c += kChunk) {
    const std::int64_t len = n - c < kChunk ? n - c : kChunk;
    const std::int64_t start = first + c, shift = start & 1;
    const std::uint64_t pair0 = static_cast<std::uint64_t>(start) / 2;
    const std::int64_t pairs = (shift + len + 1) / 2;
    for (std::int64_t i = 0; i < pairs; ++i) {
      const std::uint64_t h = dropout_pair_bits(d, pair0 + static_cast<std::uint64_t>(i));
      bits[2 * i] = static_cast<std::uint32_t>(h);              // the pair's first element
      bits[2 * i + 1] = static_cast<std::uint32_t>(h >> 32);    // its second
    }
    const std::uint32_t* b = bits + shift;
    const In* x = in + c;
    Out* y = out + c;
    for (std::int64_t j = 0; j < len; ++j) put(y + j, widen(x[j]) * (b[j] < threshold ? 0.0f : keep_scale));
  }
}

template <class Y>
BF_INLINE void layer_norm_forward(const Y* y, const float* residual, const LayerNormArgs& a, float* z, float* out,
                                  float* mean, float* rstd, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t cols = a.cols;
  const float inv_cols = 1.0f / static_cast<float>(cols);
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const Y* yr = y + r * cols;
    const float* rr = residual + r * cols;
    float* zr = z + r * cols;
    float* outr = out + r * cols;
    if (a.dropout.active()) {
      apply_dropout(yr, zr, cols, a.dropout, r * cols);
      for (std::int64_t j = 0; j < cols; ++j) zr[j] += rr[j];
    } else {
      for (std::int64_t j = 0; j < cols; ++j) zr[j] = widen(yr[j]) + rr[j];
    }
    const float m = lane_sum(zr, cols) * inv_cols;
    const float var = lane_sum_sq(zr, m, cols) * inv_cols;
    const float s = 1.0f / std::sqrt(var + a.eps);
    mean[r] = m;
    rstd[r] = s;
    for (std::int64_t j = 0; j < cols; ++j) outr[j] = (zr[j] - m) * s * a.gamma[j] + a.beta[j];
  }
}

template <class Y>
BF_INLINE void layer_norm_backward(const float* grad_out, const float* z, const float* mean, const float* rstd,
                                   const LayerNormArgs& a, float* grad_z, Y* grad_y, float* grad_gamma,
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
    if (grad_y && static_cast<const void*>(grad_y) != static_cast<const void*>(grad_z)) {
      Y* gyr = grad_y + r * cols;
      if (a.dropout.active())
        apply_dropout(dzr, gyr, cols, a.dropout, r * cols);
      else
        for (std::int64_t k = 0; k < cols; ++k) put(gyr + k, dzr[k]);
    }
  }
}

// fp32 rows are their own scratch; bf16 rows use a per-thread fp32 row.
template <class T>
BF_INLINE void softmax_forward(const T* scores, const SoftmaxArgs& a, T* probs, T* dropped, std::int64_t row_begin,
                               std::int64_t row_end) {
  const std::int64_t cols = a.cols;
  constexpr bool in_place = std::is_same<T, float>::value;
  float* scratch = in_place ? nullptr : row_scratch(cols);
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const T* sr = scores + r * cols;
    const float* mr = a.mask + (r / a.rows_per_mask) * cols;
    T* pr = probs + r * cols;
    float* row = in_place ? reinterpret_cast<float*>(pr) : scratch;
    for (std::int64_t j = 0; j < cols; ++j) row[j] = widen(sr[j]) * a.scale + mr[j];
    const float top = largest(row, cols);
    for (std::int64_t j = 0; j < cols; ++j) row[j] = exp_inline(row[j] - top);
    const float inv = 1.0f / lane_sum(row, cols);
    for (std::int64_t j = 0; j < cols; ++j) row[j] *= inv;
    if (!in_place)
      for (std::int64_t j = 0; j < cols; ++j) put(pr + j, row[j]);
    if (a.dropout.active()) apply_dropout(row, dropped + r * cols, cols, a.dropout, r * cols);
  }
}

template <class T>
BF_INLINE void softmax_backward(const T* grad_dropped, const T* probs, const SoftmaxArgs& a, T* grad_scores,
                                std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t cols = a.cols;
  constexpr bool in_place = std::is_same<T, float>::value;
  float* scratch = in_place ? nullptr : row_scratch(cols);
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const T* pr = probs + r * cols;
    const T* gd = grad_dropped + r * cols;
    T* gr = grad_scores + r * cols;
    float* g = in_place ? reinterpret_cast<float*>(gr) : scratch;
    if (a.dropout.active())
      apply_dropout(gd, g, cols, a.dropout, r * cols);
    else
      for (std::int64_t j = 0; j < cols; ++j) g[j] = widen(gd[j]);
    const float dot = lane_dot(g, pr, cols);
    for (std::int64_t j = 0; j < cols; ++j) put(gr + j, widen(pr[j]) * (g[j] - dot) * a.scale);
  }
}

template <class T>
BF_INLINE void ce_forward(const T* logits, const std::int64_t* labels, std::int64_t cols, float* loss,
                          float* row_max, float* log_sum, float* correct, std::int64_t row_begin,
                          std::int64_t row_end) {
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const T* x = logits + r * cols;
    const float top = largest(x, cols);
    float acc[kLanes] = {};
    std::int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) acc[l] += exp_inline(widen(x[j + l]) - top);
    float sum = 0.0f;
    for (int l = 0; l < kLanes; ++l) sum += acc[l];
    for (; j < cols; ++j) sum += exp_inline(widen(x[j]) - top);
    const float logs = std::log(sum);
    row_max[r] = top;
    log_sum[r] = logs;
    const std::int64_t label = labels[r];
    if (label < 0 || label >= cols) {
      loss[r] = 0.0f;
      correct[r] = 0.0f;
      continue;
    }
    loss[r] = -((widen(x[label]) - top) - logs);
    // argmax == label: the label holds the maximum and no earlier index does.
    bool first = widen(x[label]) == top;
    if (first) {
      int earlier = 0;
      for (std::int64_t k = 0; k < label; ++k) earlier |= widen(x[k]) == top;
      first = earlier == 0;
    }
    correct[r] = first ? 1.0f : 0.0f;
  }
}

template <class T>
BF_INLINE void ce_backward(const T* logits, const std::int64_t* labels, const float* row_max, const float* log_sum,
                           float scale, std::int64_t cols, T* grad, std::int64_t row_begin, std::int64_t row_end) {
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const T* x = logits + r * cols;
    T* g = grad + r * cols;
    const std::int64_t label = labels[r];
    if (label < 0 || label >= cols) {
      std::memset(g, 0, static_cast<std::size_t>(cols) * sizeof(T));
      continue;
    }
    const float top = row_max[r], logs = log_sum[r];
    for (std::int64_t j = 0; j < cols; ++j) put(g + j, scale * exp_inline((widen(x[j]) - top) - logs));
    put(g + label, scale * exp_inline((widen(x[label]) - top) - logs) - scale);
  }
}

// x/2 (1 + erf(x/sqrt2)) in ATen's order of operations.
BF_INLINE float gelu_value(float v) { return v * 0.5f * (1.0f + erf_inline(v * 0.70710678118654752f)); }

// GELU'(v) = Phi(v) + v phi(v).
BF_INLINE float gelu_slope(float v) {
  float gauss;  // e^(-v^2 / 2), from inside the erf
  const float cdf = 0.5f * (1.0f + erf_and_gauss(v * 0.70710678118654752f, &gauss));
  const float pdf = 0.39894228040143268f * gauss;
  return cdf + v * pdf;
}

// bf16 has 65,536 values: GELU and its slope for each, computed once by
// the fp32 code above, so a lookup (then the same rounding) gives exactly
// what computing the element would, several times faster: the erf and exp
// are the work. fp32 tables (512 KB, built on first use): 32-bit lookups
// vectorise as AVX-512/AVX2 gathers, 16-bit ones do not.
struct GeluTables {
  float value[65536];
  float slope[65536];
  GeluTables() {
    for (std::uint32_t u = 0; u < 65536; ++u) {
      const float v = widen(static_cast<bf16_t>(u));
      value[u] = gelu_value(v);
      slope[u] = gelu_slope(v);
    }
  }
};
const GeluTables& gelu_tables() {
  static const GeluTables tables;
  return tables;
}

BF_INLINE void gelu_fwd(const float* x, float* y, std::int64_t begin, std::int64_t end) {
  for (std::int64_t i = begin; i < end; ++i) y[i] = gelu_value(x[i]);
}
BF_INLINE void gelu_fwd(const bf16_t* x, bf16_t* y, std::int64_t begin, std::int64_t end) {
  const float* value = gelu_tables().value;
  for (std::int64_t i = begin; i < end; ++i) put(y + i, value[x[i]]);
}

BF_INLINE void gelu_bwd(const float* grad_y, const float* x, float* grad_x, std::int64_t begin, std::int64_t end) {
  for (std::int64_t i = begin; i < end; ++i) grad_x[i] = grad_y[i] * gelu_slope(x[i]);
}
BF_INLINE void gelu_bwd(const bf16_t* grad_y, const bf16_t* x, bf16_t* grad_x, std::int64_t begin, std::int64_t end) {
  const float* slope = gelu_tables().slope;
  for (std::int64_t i = begin; i < end; ++i) put(grad_x + i, widen(grad_y[i]) * slope[x[i]]);
}

}  // namespace

float exp_approx(float x) { return exp_inline(x); }
float erf_approx(float x) { return erf_inline(x); }

// The entry points: one copy per instruction-set level and element type, each
// inlining the templates above. x86-64-v4 (AVX-512 with BW/VL) is its own
// level: with AVX-512F alone GCC cannot put bf16's 16-bit lanes in zmm
// registers and leaves the bf16 loops largely scalar (the bf16 GELU took 2.2x
// the time of its x86-64-v4 copy on Zen4).
BF_CPU_DISPATCH(gelu_forward, (const float* x, float* y, std::int64_t begin, std::int64_t end),
                (x, y, begin, end), gelu_fwd)
BF_CPU_DISPATCH(gelu_forward, (const bf16_t* x, bf16_t* y, std::int64_t begin, std::int64_t end),
                (x, y, begin, end), gelu_fwd)
BF_CPU_DISPATCH(gelu_backward, (const float* grad_y, const float* x, float* grad_x, std::int64_t begin,
                std::int64_t end),
                (grad_y, x, grad_x, begin, end), gelu_bwd)
BF_CPU_DISPATCH(gelu_backward, (const bf16_t* grad_y, const bf16_t* x, bf16_t* grad_x, std::int64_t begin,
                std::int64_t end),
                (grad_y, x, grad_x, begin, end), gelu_bwd)

BF_CPU_DISPATCH(dropout_add_layer_norm_forward, (const float* y, const float* residual, const LayerNormArgs& a,
                float* z, float* out, float* mean, float* rstd, std::int64_t row_begin, std::int64_t row_end),
                (y, residual, a, z, out, mean, rstd, row_begin, row_end), layer_norm_forward)
BF_CPU_DISPATCH(dropout_add_layer_norm_forward, (const bf16_t* y, const float* residual, const LayerNormArgs& a,
                float* z, float* out, float* mean, float* rstd, std::int64_t row_begin, std::int64_t row_end),
                (y, residual, a, z, out, mean, rstd, row_begin, row_end), layer_norm_forward)

BF_CPU_DISPATCH(dropout_add_layer_norm_backward, (const float* grad_out, const float* z, const float* mean,
                const float* rstd, const LayerNormArgs& a, float* grad_z, float* grad_y, float* grad_gamma,
                float* grad_beta, std::int64_t row_begin, std::int64_t row_end),
                (grad_out, z, mean, rstd, a, grad_z, grad_y, grad_gamma, grad_beta, row_begin,
                 row_end), layer_norm_backward)
BF_CPU_DISPATCH(dropout_add_layer_norm_backward, (const float* grad_out, const float* z, const float* mean,
                const float* rstd, const LayerNormArgs& a, float* grad_z, bf16_t* grad_y, float* grad_gamma,
                float* grad_beta, std::int64_t row_begin, std::int64_t row_end),
                (grad_out, z, mean, rstd, a, grad_z, grad_y, grad_gamma, grad_beta, row_begin,
                 row_end), layer_norm_backward)

BF_CPU_DISPATCH(masked_softmax_dropout_forward, (const float* scores, const SoftmaxArgs& a, float* probs,
                float* dropped, std::int64_t row_begin, std::int64_t row_end),
                (scores, a, probs, dropped, row_begin, row_end), softmax_forward)
BF_CPU_DISPATCH(masked_softmax_dropout_forward, (const bf16_t* scores, const SoftmaxArgs& a, bf16_t* probs,
                bf16_t* dropped, std::int64_t row_begin, std::int64_t row_end),
                (scores, a, probs, dropped, row_begin, row_end), softmax_forward)

BF_CPU_DISPATCH(masked_softmax_dropout_backward, (const float* grad_dropped, const float* probs,
                const SoftmaxArgs& a, float* grad_scores, std::int64_t row_begin, std::int64_t row_end),
                (grad_dropped, probs, a, grad_scores, row_begin, row_end), softmax_backward)
BF_CPU_DISPATCH(masked_softmax_dropout_backward, (const bf16_t* grad_dropped, const bf16_t* probs,
                const SoftmaxArgs& a, bf16_t* grad_scores, std::int64_t row_begin, std::int64_t row_end),
                (grad_dropped, probs, a, grad_scores, row_begin, row_end), softmax_backward)

BF_CPU_DISPATCH(cross_entropy_forward, (const float* logits, const std::int64_t* labels, std::int64_t cols,
                float* loss, float* row_max, float* log_sum, float* correct, std::int64_t row_begin,
                std::int64_t row_end),
                (logits, labels, cols, loss, row_max, log_sum, correct, row_begin, row_end), ce_forward)
BF_CPU_DISPATCH(cross_entropy_forward, (const bf16_t* logits, const std::int64_t* labels, std::int64_t cols,
                float* loss, float* row_max, float* log_sum, float* correct, std::int64_t row_begin,
                std::int64_t row_end),
                (logits, labels, cols, loss, row_max, log_sum, correct, row_begin, row_end), ce_forward)

BF_CPU_DISPATCH(cross_entropy_backward, (const float* logits, const std::int64_t* labels, const float* row_max,
                const float* log_sum, float scale, std::int64_t cols, float* grad, std::int64_t row_begin,
                std::int64_t row_end),
                (logits, labels, row_max, log_sum, scale, cols, grad, row_begin, row_end), ce_backward)
BF_CPU_DISPATCH(cross_entropy_backward, (const bf16_t* logits, const std::int64_t* labels, const float* row_max,
                const float* log_sum, float scale, std::int64_t cols, bf16_t* grad, std::int64_t row_begin,
                std::int64_t row_end),
                (logits, labels, row_max, log_sum, scale, cols, grad, row_begin, row_end), ce_backward)

}  // namespace bf::model::fused
