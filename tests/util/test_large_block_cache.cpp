// The cache of large CPU blocks in front of LibTorch's allocator: a freed
// block serves the next tensor of about its size, small tensors are not
// touched, idle memory is capped, and tensors behave as before.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "util/large_block_cache.h"

namespace {

constexpr std::int64_t kMiB = 1 << 20;

torch::Tensor floats(std::int64_t bytes) { return torch::empty({bytes / 4}, torch::kFloat32); }

}  // namespace

TEST_CASE("large freed blocks are reused, small ones are left to LibTorch", "[util][allocator]") {
  bf::install_large_block_cache(std::size_t{256} << 20);
#if defined(__SANITIZE_ADDRESS__)
  CHECK_FALSE(bf::large_block_cache_installed());
  return;
#endif
  REQUIRE(bf::large_block_cache_installed());
  const auto idle_before = bf::large_block_cache_idle_bytes();

  auto big = floats(40 * kMiB);
  const void* first = big.data_ptr();
  big.fill_(3.0f);
  big.reset();
  CHECK(bf::large_block_cache_idle_bytes() == idle_before + 40 * kMiB);

  // About the same size takes the same block; zeros() still zero-fills it.
  auto again = torch::zeros({(39 * kMiB) / 4}, torch::kFloat32);
  CHECK(again.data_ptr() == first);
  CHECK(bf::large_block_cache_idle_bytes() == idle_before);
  CHECK(again.eq(0).all().item<bool>());

  // Much smaller than the idle block: not handed a block it would waste.
  again.reset();
  auto smaller = floats(20 * kMiB);
  CHECK(smaller.data_ptr() != first);
  smaller.reset();

  // A block that would take idle memory over the cap is freed, not kept.
  const auto idle = bf::large_block_cache_idle_bytes();
  auto huge = floats(300 * kMiB);
  huge.reset();
  CHECK(bf::large_block_cache_idle_bytes() == idle);

  // Small tensors and ordinary arithmetic are unaffected.
  auto a = torch::arange(1000, torch::kFloat32);
  CHECK((a * 2).sum().item<float>() == Approx(999000.0));
}

TEST_CASE("large blocks survive arithmetic and autograd", "[util][allocator]") {
  bf::install_large_block_cache(std::size_t{256} << 20);
  for (int round = 0; round < 3; ++round) {
    auto x = torch::full({2048, 3072}, 0.5f).set_requires_grad(true);  // 24 MiB
    auto y = (x * x).sum();
    y.backward();
    CHECK(x.grad().sum().item<double>() == Approx(2048.0 * 3072.0));
  }
}
