#include "model/fused/dropout_mask.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace bf::model::fused {
namespace {

std::uint64_t draw_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

}  // namespace

DropoutDraw draw_dropout(double p) {
  DropoutDraw d;
  d.seed = draw_seed();
  d.threshold = static_cast<std::uint64_t>(p * 4294967296.0);  // drop when below
  d.keep_scale = static_cast<float>(1.0 / (1.0 - p));
  return d;
}

}  // namespace bf::model::fused
