// Dynamic loss scaling (fp16's GradScaler), checked on CPU where its logic is
// the same: scale, unscale, overflow detection, back-off and growth.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "train/loss_scaler.h"

using namespace bf;

namespace {
train::LossScaler scaler_with(double init, std::int64_t growth_interval) {
  train::LossScalerOptions o;
  o.enabled = true;
  o.init_scale = init;
  o.growth_interval = growth_interval;
  return train::LossScaler(o);
}
}  // namespace

TEST_CASE("loss scaler: scales the loss, unscales gradients exactly, reports overflow", "[train][fp16]") {
  auto scaler = scaler_with(8.0, 1000);
  REQUIRE(scaler.scale_loss(torch::tensor(2.0f)).item<float>() == 16.0f);
  auto a = torch::tensor({8.0f, -24.0f});
  auto b = torch::tensor({0.5f});
  REQUIRE_FALSE(scaler.unscale_and_check({a, b}));
  REQUIRE(torch::equal(a, torch::tensor({1.0f, -3.0f})));
  REQUIRE(torch::equal(b, torch::tensor({0.0625f})));
  auto bad = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  REQUIRE(scaler.unscale_and_check({a, bad}));
  auto nan = torch::tensor({std::nanf("")});
  REQUIRE(scaler.unscale_and_check({nan}));
}

TEST_CASE("loss scaler: halves on overflow, doubles after growth_interval clean steps, state round trip",
          "[train][fp16]") {
  auto scaler = scaler_with(1024.0, 3);
  scaler.update(true);
  REQUIRE(scaler.scale() == 512.0);
  scaler.update(false);
  scaler.update(false);
  REQUIRE(scaler.scale() == 512.0);
  scaler.update(false);
  REQUIRE(scaler.scale() == 1024.0);
  scaler.update(false);  // one clean step toward the next growth
  auto restored = scaler_with(65536.0, 3);
  restored.load_state(scaler.state());
  REQUIRE(restored.scale() == 1024.0);
  restored.update(false);
  restored.update(false);
  REQUIRE(restored.scale() == 2048.0);  // the clean-step count came along too

  train::LossScalerOptions off;
  train::LossScaler disabled(off);
  auto g = torch::tensor({4.0f});
  REQUIRE_FALSE(disabled.unscale_and_check({g}));
  REQUIRE(g.item<float>() == 4.0f);
  REQUIRE(disabled.scale_loss(torch::tensor(3.0f)).item<float>() == 3.0f);
}
