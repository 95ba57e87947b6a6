#pragma once
// Dropout with a counter-based random mask, generated on all threads.
//
// LibTorch 1.13 draws CPU dropout masks with bernoulli_, one Mersenne-twister
// call per element on a single thread: about a tenth of a BERT training step
// on 2 cores. Here each element's keep/drop decision is a hash (splitmix64)
// of its index and one 64-bit seed taken from the default CPU generator, so
// the mask is the same whatever the thread count, and seeding, checkpointed
// RNG state and exact resume work as before. On other devices it is
// torch::dropout.
#include <torch/torch.h>

#include "model/fused/kernels.h"

namespace bf::model {

torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// One draw of the mask's seed from the default CPU generator, with p's
// threshold: what dropout() uses, for the fused kernels that apply the same
// mask inside a larger pass (model/fused/) and regenerate it in backward.
fused::DropoutDraw draw_dropout(double p);

}  // namespace bf::model
