#include <ATen/Parallel.h>
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include "model/dropout.h"

TEST_CASE("dropout drops a fraction p and scales the rest by 1/(1-p)", "[model][dropout]") {
  torch::manual_seed(3);
  auto x = torch::ones({1000, 1000});
  for (double p : {0.1, 0.5}) {
    auto y = bf::model::dropout(x, p, true);
    const double dropped = y.eq(0).to(torch::kDouble).mean().item<double>();
    CHECK(dropped == Approx(p).margin(0.003));  // 1e6 draws: 3 sigma is about 0.0015
    auto kept = y.masked_select(y.ne(0));
    CHECK(kept.min().item<float>() == Approx(1.0 / (1.0 - p)));
    CHECK(kept.max().item<float>() == Approx(1.0 / (1.0 - p)));
  }
}

TEST_CASE("dropout is the identity in eval mode and at p = 0", "[model][dropout]") {
  auto x = torch::randn({7, 9});
  CHECK(bf::model::dropout(x, 0.1, false).equal(x));
  CHECK(bf::model::dropout(x, 0.0, true).equal(x));
}

TEST_CASE("dropout masks follow the seed, not the thread count", "[model][dropout]") {
  auto x = torch::randn({333, 777});  // odd element count: the last pair is half used
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::manual_seed(11);
  auto one = bf::model::dropout(x, 0.1, true);
  auto next = bf::model::dropout(x, 0.1, true);
  at::set_num_threads(2);
  torch::manual_seed(11);
  auto two = bf::model::dropout(x, 0.1, true);
  at::set_num_threads(threads);
  CHECK(one.equal(two));
  CHECK_FALSE(one.equal(next));  // each call draws a fresh seed
}

TEST_CASE("dropout passes gradients through the kept elements only", "[model][dropout]") {
  torch::manual_seed(5);
  auto x = torch::randn({64, 64}, torch::requires_grad());
  auto y = bf::model::dropout(x, 0.25, true);
  y.sum().backward();
  auto expected = y.detach().ne(0).to(torch::kFloat) / 0.75;
  CHECK(torch::allclose(x.grad(), expected));
}

TEST_CASE("dropout keeps the dtype under bf16", "[model][dropout]") {
  auto x = torch::ones({100, 100}, torch::kBFloat16);
  auto y = bf::model::dropout(x, 0.1, true);
  CHECK(y.scalar_type() == torch::kBFloat16);
  CHECK(y.eq(0).to(torch::kDouble).mean().item<double>() == Approx(0.1).margin(0.02));
}
