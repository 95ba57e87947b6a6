#include "model/fused/op_support.h"

#include <ATen/Parallel.h>

#include <mutex>
#include <set>

#include "model/fused/fused_ops.h"

namespace bf::model::fused {

bool supports(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() &&
         (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16);
}

namespace support {

bool wants_grad(std::initializer_list<const torch::Tensor*> inputs) {
  if (!torch::GradMode::is_enabled()) return false;
  for (const auto* t : inputs)
    if (t->requires_grad()) return true;
  return false;
}

int parallel_for_threads(std::int64_t items) {
  std::mutex m;
  std::set<int> seen;
  at::parallel_for(0, items, 1, [&](std::int64_t, std::int64_t) {
    std::lock_guard<std::mutex> lock(m);
    seen.insert(at::get_thread_num());
  });
  return static_cast<int>(seen.size());
}

DropoutDraw maybe_draw(double p, bool training) { return training && p > 0.0 ? draw_dropout(p) : DropoutDraw{}; }

// The seed's bits travel as an int64.
void save_draw(torch::autograd::AutogradContext* ctx, const DropoutDraw& d) {
  ctx->saved_data["seed"] = static_cast<std::int64_t>(d.seed);
  ctx->saved_data["threshold"] = static_cast<std::int64_t>(d.threshold);
  ctx->saved_data["keep_scale"] = static_cast<double>(d.keep_scale);
}

DropoutDraw load_draw(torch::autograd::AutogradContext* ctx) {
  DropoutDraw d;
  d.seed = static_cast<std::uint64_t>(ctx->saved_data["seed"].toInt());
  d.threshold = static_cast<std::uint64_t>(ctx->saved_data["threshold"].toInt());
  d.keep_scale = static_cast<float>(ctx->saved_data["keep_scale"].toDouble());
  return d;
}

}  // namespace support
}  // namespace bf::model::fused
