#include "model/dropout.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include "model/fused/dropout_mask.h"

namespace bf::model {
namespace {

// 0 where dropped, 1/(1-p) where kept, in x's dtype. Each 64-bit hash gives
// two 32-bit decisions.
torch::Tensor dropout_mask(const torch::Tensor& x, double p) {
  auto mask = torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::Contiguous));
  const auto draw = fused::draw_dropout(p);
  const std::int64_t n = mask.numel();
  const std::int64_t pairs = (n + 1) / 2;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, mask.scalar_type(), "bf_dropout_mask", [&] {
    scalar_t* out = mask.data_ptr<scalar_t>();
    const auto keep = static_cast<scalar_t>(1.0 / (1.0 - p));
    const auto drop = static_cast<scalar_t>(0);
    at::parallel_for(0, pairs, 1 << 14, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        const std::uint64_t bits = fused::dropout_pair_bits(draw, static_cast<std::uint64_t>(i));
        out[2 * i] = fused::dropout_drops(draw, bits, false) ? drop : keep;
        if (2 * i + 1 < n) out[2 * i + 1] = fused::dropout_drops(draw, bits, true) ? drop : keep;
      }
    });
  });
  return mask;
}

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (!x.device().is_cpu() || p >= 1.0) return torch::dropout(x, p, training);
  return x * dropout_mask(x, p);
}

}  // namespace bf::model
