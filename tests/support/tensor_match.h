#pragma once
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <string>

namespace bf::test {

// |a - b| <= atol + rtol * |b| elementwise, with the worst element reported.
inline void require_close(const torch::Tensor& actual, const torch::Tensor& expected, double atol, double rtol,
                          const std::string& what) {
  INFO(what << ": shape " << actual.sizes() << " vs expected " << expected.sizes());
  REQUIRE(actual.sizes() == expected.sizes());
  auto a = actual.detach().to(torch::kFloat64);
  auto b = expected.detach().to(torch::kFloat64);
  auto excess = (a - b).abs() - (atol + rtol * b.abs());
  const double worst = excess.numel() ? excess.max().item<double>() : -1.0;
  const double max_abs = excess.numel() ? (a - b).abs().max().item<double>() : 0.0;
  INFO(what << ": max |a-b| = " << max_abs << ", worst excess over tolerance = " << worst);
  REQUIRE(worst <= 0.0);
}

}  // namespace bf::test
