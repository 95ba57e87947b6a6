#pragma once
// bertforge's fast paths for the model's maths, each an autograd function
// with its own backward, on CPU tensors in fp32 or bf16 (bf16 under autocast,
// computed in fp32; kernels.h). The modules (model/*.cpp) call them where
// their config's fused_kernels is on and the op's `supports` predicate holds,
// and keep the plain LibTorch expression beside each call: that is the
// reference, and the path everywhere else (CUDA, other dtypes). Nothing here
// falls back: each op states its precondition, and a call outside it is an
// error.
//
// Both paths draw dropout masks the same way (dropout_mask.h), so fused and
// reference drop the same elements and differ only in rounding. What fusion
// saves per layer: the dropout masks are never stored (backward regenerates
// them from their seed), the attention mask, softmax and dropout read the
// scores once, and the residual add feeds LayerNorm in the same pass.
#include <torch/torch.h>

#include <utility>

namespace bf::model::fused {

// The fused kernels' tensors: on the CPU, fp32 or bf16.
bool supports(const torch::Tensor& t);

// LayerNorm(dropout(y) + residual), as BertSelfOutput and BertOutput end. y
// may be bf16 (autocast); the residual, the LayerNorm and the result are
// fp32. Precondition: supports_layer_norm, y and residual of one shape whose
// last dimension is the LayerNorm's, 0 <= p < 1.
bool supports_layer_norm(const torch::Tensor& y, const torch::Tensor& residual, const torch::nn::LayerNorm& ln);
torch::Tensor dropout_add_layer_norm(const torch::Tensor& y, const torch::Tensor& residual, double p, bool training,
                                     const torch::nn::LayerNorm& layer_norm);

// dropout(softmax(scores * scale + mask)): scores [B, heads, S, S], additive
// mask [B, 1, 1, S]. The scale (attention's 1/sqrt(head_dim)) is applied
// here rather than by the scores GEMM, so that GEMM's backward needs no
// scaling pass of its own. Precondition: supports(scores), the mask on the
// CPU, 0 <= p < 1.
torch::Tensor masked_softmax_dropout(const torch::Tensor& scores, const torch::Tensor& additive_mask, double p,
                                     bool training, double scale = 1.0);

// Multi-head attention on the fused projection's output qkv [B, S, 3H]
// (query, key and value, each [heads, head_dim] per position):
// dropout(softmax(Q K^T / sqrt(head_dim) + mask)) V as [B, S, H]. Each head's
// blocks go to BLAS with their row stride: Q, K and V are never copied out of
// qkv, the context is written in place, and backward writes the three
// gradients into one [B, S, 3H] tensor. Precondition: supports_qkv_attention
// (CPU fp32: the system BLAS has no bf16 GEMM), 3H divisible by 3 * heads,
// the mask [B, 1, 1, S] on the CPU, 0 <= p < 1.
bool supports_qkv_attention(const torch::Tensor& qkv);
torch::Tensor qkv_attention(const torch::Tensor& qkv, const torch::Tensor& additive_mask, std::int64_t heads,
                            double p, bool training);

// x W^T + b over x's last dimension, as torch::linear (bias required). Two
// cases gain (supports_linear): CPU fp32 outside autocast, where its GEMMs
// are split over the threads by hand, one single-threaded BLAS call per part
// (fused/linear.cpp); and under CPU bf16 autocast a weight of more than 4,096
// rows (the MLM decoder), whose weight gradient is computed in blocks of
// rows. Anything else (any other linear under autocast, CUDA, an empty x) has
// nothing faster than torch::linear here.
bool supports_linear(const torch::Tensor& x, const torch::Tensor& weight);
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// GELU, exact (erf) form, as torch::gelu: one vectorised pass forward and one
// backward (LibTorch's take about three times as long); the erf is the
// approximation ATen's own vectorised erf uses, so values differ from
// torch::gelu's only in rounding. bf16 reads a table of all 65,536 inputs.
// Precondition: supports(x).
torch::Tensor gelu(const torch::Tensor& x);

// The summed cross-entropy of rows of logits [M, V] against labels [M]
// (negative labels ignored) and how many rows argmax gets right, the loss in
// fp32 whatever the logits' dtype: one pass over the logits forward (max,
// log-sum-exp, argmax check), one backward (softmax minus the label), with no
// log-probabilities stored. Precondition: supports(logits), labels int64 on
// the CPU.
std::pair<torch::Tensor, torch::Tensor> cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace bf::model::fused
