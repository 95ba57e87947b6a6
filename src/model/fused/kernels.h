#pragma once
// Single-pass CPU kernels for the elementwise chains of a BERT layer, in the
// manner of train/adamw_kernel.h: plain C++ without torch, compiled without
// FMA contraction or math errno (CMakeLists.txt) and compiled once per
// instruction-set level (util/cpu_dispatch.h: x86-64-v4, AVX-512F, AVX2,
// portable), so every copy rounds alike. Callers split rows over
// threads (fused_ops.cpp); each call handles the rows it is given.
//
// Row sums run in 16 lanes then add the lanes in a fixed order: vectorised,
// and the same numbers for any thread count and any of the copies.
//
// Each kernel also takes bf16 tensors (autocast's GEMM outputs): loaded to
// fp32, computed in fp32, stored rounded to nearest even.
#include <cstdint>

#include "model/fused/dropout_mask.h"

namespace bf::model::fused {

// bf16 as LibTorch stores it (c10::BFloat16): the high 16 bits of an fp32.
using bf16_t = std::uint16_t;

// --- LayerNorm(dropout(y) + residual) -----------------------------------
// Rows [row_begin, row_end) of `cols`; dropout indices count from the start
// of the tensor (row * cols + column), as a whole tensor's mask's do
// (dropout_mask.h). Writes z = dropout(y) + residual (kept for backward; may
// be the same buffer as out when it is not), out, and per-row mean and 1/std.
struct LayerNormArgs {
  const float* gamma;
  const float* beta;
  float eps;
  std::int64_t cols;
  DropoutDraw dropout;
};
void dropout_add_layer_norm_forward(const float* y, const float* residual, const LayerNormArgs& a, float* z,
                                    float* out, float* mean, float* rstd, std::int64_t row_begin,
                                    std::int64_t row_end);
// y in bf16 (a GEMM's output under autocast); the residual stream stays fp32.
void dropout_add_layer_norm_forward(const bf16_t* y, const float* residual, const LayerNormArgs& a, float* z,
                                    float* out, float* mean, float* rstd, std::int64_t row_begin,
                                    std::int64_t row_end);
// From grad_out: grad_z (the residual's gradient), grad_y (grad_z through the
// same dropout mask; may alias grad_z's storage only when dropout is off, and
// may be null then), and this row range's sums of grad_out * normalised and of
// grad_out, added into grad_gamma and grad_beta (length cols).
void dropout_add_layer_norm_backward(const float* grad_out, const float* z, const float* mean, const float* rstd,
                                     const LayerNormArgs& a, float* grad_z, float* grad_y, float* grad_gamma,
                                     float* grad_beta, std::int64_t row_begin, std::int64_t row_end);
void dropout_add_layer_norm_backward(const float* grad_out, const float* z, const float* mean, const float* rstd,
                                     const LayerNormArgs& a, float* grad_z, bf16_t* grad_y, float* grad_gamma,
                                     float* grad_beta, std::int64_t row_begin, std::int64_t row_end);

// --- attention: softmax(scores + mask), then dropout ---------------------
// Rows [row_begin, row_end) of `cols` keys; row r uses mask row
// r / rows_per_mask (the [B, 1, 1, S] additive mask, one row per sequence).
// probs is kept for backward; dropped = dropout(probs) is written when the
// dropout is active (else it is not touched: the output is probs). The
// scores are multiplied by `scale` before the mask is added (attention's
// 1/sqrt(head_dim) when the scores GEMM did not apply it; x * 1 is x).
struct SoftmaxArgs {
  const float* mask;
  std::int64_t rows_per_mask;
  std::int64_t cols;
  DropoutDraw dropout;
  float scale = 1.0f;
};
void masked_softmax_dropout_forward(const float* scores, const SoftmaxArgs& a, float* probs, float* dropped,
                                    std::int64_t row_begin, std::int64_t row_end);
void masked_softmax_dropout_forward(const bf16_t* scores, const SoftmaxArgs& a, bf16_t* probs, bf16_t* dropped,
                                    std::int64_t row_begin, std::int64_t row_end);
// grad_scores = probs * (g - sum(g * probs)) * scale, g = dropout(grad_dropped).
void masked_softmax_dropout_backward(const float* grad_dropped, const float* probs, const SoftmaxArgs& a,
                                     float* grad_scores, std::int64_t row_begin, std::int64_t row_end);
void masked_softmax_dropout_backward(const bf16_t* grad_dropped, const bf16_t* probs, const SoftmaxArgs& a,
                                     bf16_t* grad_scores, std::int64_t row_begin, std::int64_t row_end);

// --- cross-entropy over rows of `cols` logits (the MLM head) -------------
// Per row: loss = log_sum - (x[label] - max) with log_sum = log(sum(e^(x -
// max))), rounded in LibTorch's log_softmax order (0 where label < 0,
// ignored); max and log_sum kept for backward; correct = 1 where the label is
// the first index of the row's maximum (argmax's answer), else 0.
void cross_entropy_forward(const float* logits, const std::int64_t* labels, std::int64_t cols, float* loss,
                           float* row_max, float* log_sum, float* correct, std::int64_t row_begin,
                           std::int64_t row_end);
// bf16 logits (the MLM head under autocast), the loss in fp32.
void cross_entropy_forward(const bf16_t* logits, const std::int64_t* labels, std::int64_t cols, float* loss,
                           float* row_max, float* log_sum, float* correct, std::int64_t row_begin,
                           std::int64_t row_end);
// grad = scale * (softmax(x) - onehot(label)) per row (0 for ignored rows).
void cross_entropy_backward(const float* logits, const std::int64_t* labels, const float* row_max,
                            const float* log_sum, float scale, std::int64_t cols, float* grad,
                            std::int64_t row_begin, std::int64_t row_end);
void cross_entropy_backward(const bf16_t* logits, const std::int64_t* labels, const float* row_max,
                            const float* log_sum, float scale, std::int64_t cols, bf16_t* grad,
                            std::int64_t row_begin, std::int64_t row_end);

// --- GELU, exact (erf) form: y = x/2 (1 + erf(x/sqrt2)) ------------------
// Elements [begin, end). erf as Abramowitz & Stegun 7.1.26 (absolute error
// below 1.5e-7), the formula ATen's vectorised erf uses, with this file's exp.
void gelu_forward(const float* x, float* y, std::int64_t begin, std::int64_t end);
void gelu_forward(const bf16_t* x, bf16_t* y, std::int64_t begin, std::int64_t end);
// grad_x = grad_y * (Phi(x) + x phi(x)), Phi and phi the normal cdf and pdf.
void gelu_backward(const float* grad_y, const float* x, float* grad_x, std::int64_t begin, std::int64_t end);
void gelu_backward(const bf16_t* grad_y, const bf16_t* x, bf16_t* grad_x, std::int64_t begin, std::int64_t end);

// The vectorisable exp and erf of these kernels (exposed for their tests).
float exp_approx(float x);
float erf_approx(float x);

}  // namespace bf::model::fused
