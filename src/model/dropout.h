#pragma once
// Dropout with a counter-based random mask, generated on all threads.
//
// LibTorch 1.13 draws CPU dropout masks with bernoulli_, one Mersenne-twister
// call per element on a single thread: about a tenth of a BERT training step
// on 2 cores. Here each element's keep/drop decision is a hash (splitmix64)
// of its index and one 64-bit seed taken from the default CPU generator
// (fused/dropout_mask.h, the draw the fused kernels make too), so the mask is
// the same whatever the thread count, and seeding, checkpointed RNG state and
// exact resume work as before. On other devices it is torch::dropout.
#include <torch/torch.h>

namespace bf::model {

torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

}  // namespace bf::model
