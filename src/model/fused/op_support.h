#pragma once
// What the fused autograd functions share (fused_ops.cpp, linear.cpp,
// qkv_attention.cpp): typed element pointers, thread splits, the dropout draw
// carried from forward to backward.
#include <torch/torch.h>

#include <algorithm>
#include <initializer_list>

#include "model/fused/kernels.h"

namespace bf::model::fused::support {

inline bool is_bf16(const torch::Tensor& t) { return t.scalar_type() == torch::kBFloat16; }

// f(pointer to t's elements), typed float* or bf16_t*: the kernels'
// overloads pick the element type.
template <class F>
void with_elements(const torch::Tensor& t, F&& f) {
  if (is_bf16(t))
    f(reinterpret_cast<bf16_t*>(t.data_ptr<at::BFloat16>()));
  else
    f(t.data_ptr<float>());
}

// Whether autograd will want a backward of an op on these inputs.
bool wants_grad(std::initializer_list<const torch::Tensor*> inputs);

// Rows per task of at::parallel_for: about 16 K elements.
inline std::int64_t grain_rows(std::int64_t cols) {
  return std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(cols, 1));
}

// How many threads at::parallel_for uses for `items` tasks in this library:
// 1 whatever at::get_num_threads() says when it was built without OpenMP.
int parallel_for_threads(std::int64_t items);

// A dropout draw from the default generator (dropout_mask.h) when dropout
// is on, else the inactive draw.
DropoutDraw maybe_draw(double p, bool training);

// The draw travels from forward to backward in the autograd context.
void save_draw(torch::autograd::AutogradContext* ctx, const DropoutDraw& d);
DropoutDraw load_draw(torch::autograd::AutogradContext* ctx);

}  // namespace bf::model::fused::support
