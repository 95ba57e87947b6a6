#pragma once
// Two elementwise chains of a BERT layer and the MLM loss as single passes on
// CPU in fp32 or bf16 (kernels.h; bf16 under autocast, computed in fp32),
// each with its own backward, and LibTorch's ops everywhere else (CUDA). Both
// paths draw
// the dropout mask the same way (model/dropout.h), so switching fusion off
// changes only rounding.
//
// What fusion saves per layer: the dropout masks are never stored (backward
// regenerates them from their seed), the attention mask, softmax and dropout
// read the scores once, and the residual add feeds LayerNorm in the same
// pass.
#include <torch/torch.h>

#include <utility>

namespace bf::model {

// Fusion on or off for the whole process (default on); `bench train
// --unfused` and the equality tests switch it off.
void set_fused_kernels(bool on);

// LayerNorm(dropout(y) + residual), as BertSelfOutput and BertOutput end. y
// may be bf16 (autocast); the residual, the LayerNorm and the result are fp32.
torch::Tensor dropout_add_layer_norm(const torch::Tensor& y, const torch::Tensor& residual, double p, bool training,
                                     torch::nn::LayerNorm& layer_norm);

// dropout(softmax(scores * scale + mask)): scores [B, heads, S, S], additive
// mask [B, 1, 1, S]. The scale (attention's 1/sqrt(head_dim)) is applied
// here rather than by the scores GEMM, so that GEMM's backward needs no
// scaling pass of its own. On the unfused path scores are scaled and masked
// in place.
torch::Tensor masked_softmax_dropout(const torch::Tensor& scores, const torch::Tensor& additive_mask, double p,
                                     bool training, double scale = 1.0);

// Multi-head attention on the fused projection's output qkv [B, S, 3H]
// (query, key and value, each [heads, head_dim] per position):
// dropout(softmax(Q K^T / sqrt(head_dim) + mask)) V as [B, S, H]. On CPU fp32
// each head's blocks go to BLAS with their row stride: Q, K and V are never
// copied out of qkv, the context is written in place, and backward writes
// the three gradients into one [B, S, 3H] tensor. Undefined where it does not
// fuse (bf16, CUDA, fusion off): the caller then takes LibTorch's ops.
torch::Tensor qkv_attention(const torch::Tensor& qkv, const torch::Tensor& additive_mask, std::int64_t heads,
                            double p, bool training);

// x W^T + b over x's last dimension, as torch::linear. On CPU fp32 (outside
// autocast) its GEMMs are split over the threads by hand, one single-threaded
// BLAS call per part (fused/linear.cpp); under CPU bf16 autocast a weight of
// more than 4,096 rows (the MLM decoder) gets its weight gradient in blocks
// of rows; elsewhere it is torch::linear.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// t as CPU autocast hands it to a low-precision op: cast to autocast's CPU
// dtype, the cast of a leaf weight cached for the step (call under autocast).
torch::Tensor autocast_cpu_cast(const torch::Tensor& t);

// GELU, exact (erf) form, as torch::gelu. Fused on CPU (fp32 or bf16): one
// vectorised pass forward and one backward (LibTorch's take about three
// times as long); the erf is the approximation ATen's own vectorised erf
// uses, so values differ from torch::gelu's only in rounding.
torch::Tensor gelu(const torch::Tensor& x);

// The summed cross-entropy of rows of logits [M, V] against labels [M]
// (negative labels ignored) and how many rows argmax gets right, the loss in
// fp32 whatever the logits' dtype. Fused on CPU (fp32 or bf16 logits): one pass over the
// logits forward (max, log-sum-exp, argmax check), one backward (softmax
// minus the label), with no log-probabilities stored.
std::pair<torch::Tensor, torch::Tensor> cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace bf::model
