// Optimizers and gradient clipping: hand-computed values, agreement with
// torch's own AdamW and bit-exactness against its clip_grad_norm_, checkpoint round trips, and
// Hugging Face's three-step reference run.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "../support/reference_inputs.h"
#include "../support/shared_data.h"
#include "../support/tensor_match.h"
#include "io/batch_json.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/bert_for_pretraining.h"
#include "train/adamw_kernel.h"
#include "train/grad_clip.h"
#include "train/optimizer.h"
#include "util/cpu_capability.h"
#include "util/error.h"
#include "util/fs.h"

using namespace bf;
using train::Optimizer;
using train::OptimizerConfig;

namespace {

torch::Tensor param(std::vector<float> values) {
  return torch::tensor(values, torch::kFloat32).set_requires_grad(true);
}

void set_grad(torch::Tensor& p, std::vector<float> values) {
  p.mutable_grad() = torch::tensor(values, torch::kFloat32).reshape(p.sizes());
}

OptimizerConfig config(const std::string& name, double eps, double wd, bool bias_correction = true) {
  OptimizerConfig c;
  c.name = name;
  c.eps = eps;
  c.weight_decay = wd;
  c.bias_correction = bias_correction;
  return c;
}

double value(const torch::Tensor& t, int i = 0) { return t.reshape({-1})[i].item<double>(); }

bool bit_equal(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(),
                                               a.numel() * a.element_size()) == 0;
}

// Named random parameters of a few shapes, with deterministic gradients per step.
std::vector<std::pair<std::string, torch::Tensor>> random_params(std::uint64_t seed) {
  torch::manual_seed(seed);
  return {{"encoder.dense.weight", torch::randn({7, 5}).set_requires_grad(true)},
          {"encoder.dense.bias", torch::randn({7}).set_requires_grad(true)},
          {"encoder.LayerNorm.weight", torch::randn({5}).set_requires_grad(true)},
          {"head.weight", torch::randn({3, 4, 2}).set_requires_grad(true)},
          // Big enough to be split over threads by the fused CPU kernel.
          {"embeddings.weight", torch::randn({300, 257}).set_requires_grad(true)},
          // Not contiguous: takes the foreach path.
          {"pooler.weight", torch::randn({5, 6}).t().set_requires_grad(true)}};
}

// Distance in fp32 rounding steps of the parameter's starting value. The
// fused kernel rounds each operation as torch does, but ATen contracts some
// multiply-adds, so five updates drift by a few steps; a wrong formula would
// be off by thousands (one update at lr 1e-3 is ~8000 steps of a weight ~1).
double max_difference_in_ulps(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& before) {
  const auto scale = before.abs().clamp_min(1e-3) * std::numeric_limits<float>::epsilon();
  return ((a - b).abs() / scale).max().item<double>();
}

void random_grads(std::vector<std::pair<std::string, torch::Tensor>>& params, int step) {
  torch::manual_seed(1000 + step);
  for (auto& [name, p] : params) p.mutable_grad() = torch::randn(p.sizes()) * 0.1;
}

std::vector<std::pair<std::string, torch::Tensor>> clone(const std::vector<std::pair<std::string, torch::Tensor>>& ps) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [name, p] : ps) out.emplace_back(name, p.detach().clone().set_requires_grad(true));
  return out;
}

}  // namespace

TEST_CASE("AdamW: one and two steps on a scalar match hand-computed values", "[train][optimizer]") {
  auto w = param({1.0f});
  Optimizer opt({{"w", w}}, config("adamw", 1e-8, 0.01));
  set_grad(w, {0.5f});
  opt.step(0.1);
  // p*(1 - lr*wd) = 0.999, then - lr * m_hat/(sqrt(v_hat)+eps) = 0.999 - 0.1*0.5/(0.5+1e-8)
  CHECK(value(w) == Approx(0.8990000020).margin(1e-6));
  set_grad(w, {0.25f});
  opt.step(0.1);
  CHECK(value(w) == Approx(0.8048830405).margin(1e-6));
  CHECK(opt.steps() == 2);
}

TEST_CASE("AdamW: parameters matching no_decay get no weight decay", "[train][optimizer]") {
  auto w = param({1.0f});
  auto b = param({1.0f});
  Optimizer opt({{"layer.weight", w}, {"layer.bias", b}}, config("adamw", 1e-8, 0.01));
  REQUIRE(opt.exempt_parameter_names() == std::vector<std::string>{"layer.bias"});
  for (float g : {0.5f, 0.25f}) {
    set_grad(w, {g});
    set_grad(b, {g});
    opt.step(0.1);
  }
  CHECK(value(w) == Approx(0.8048830405).margin(1e-6));
  CHECK(value(b) == Approx(0.8067820405).margin(1e-6));
}

TEST_CASE("no_decay matching is by substring of the full parameter name", "[train][optimizer]") {
  const std::vector<std::string> patterns = {"bias", "LayerNorm.weight"};
  CHECK(train::is_exempt_from_decay("bert.encoder.layer.0.attention.self.query.bias", patterns));
  CHECK(train::is_exempt_from_decay("bert.embeddings.LayerNorm.weight", patterns));
  CHECK(train::is_exempt_from_decay("bert.embeddings.LayerNorm.bias", patterns));
  CHECK(train::is_exempt_from_decay("cls.predictions.bias", patterns));
  CHECK_FALSE(train::is_exempt_from_decay("bert.encoder.layer.0.attention.self.query.weight", patterns));
  CHECK_FALSE(train::is_exempt_from_decay("bert.embeddings.word_embeddings.weight", patterns));
  CHECK_FALSE(train::is_exempt_from_decay("layernorm.weight", patterns));  // case matters
  CHECK_FALSE(train::is_exempt_from_decay("anything", {""}));              // an empty pattern matches nothing
  CHECK_FALSE(train::is_exempt_from_decay("x.bias", {}));
}

TEST_CASE("Google's AdamWeightDecay variant: no bias correction, decay inside the update", "[train][optimizer]") {
  auto w = param({1.0f});
  Optimizer opt({{"w", w}}, config("adamw", 1e-6, 0.01, /*bias_correction=*/false));
  set_grad(w, {0.5f});
  opt.step(0.1);
  // m = 0.05, v = 0.00025: p - lr*(m/(sqrt(v)+eps) + wd*p)
  CHECK(value(w) == Approx(0.6827922327).margin(1e-6));
  set_grad(w, {0.25f});
  opt.step(0.1);
  CHECK(value(w) == Approx(0.2859935727).margin(1e-6));
}

TEST_CASE("LAMB scales each tensor's update by its trust ratio", "[train][optimizer]") {
  auto w = param({3.0f, 4.0f});
  auto b = param({3.0f, 4.0f});
  auto z = param({0.0f, 0.0f});
  Optimizer opt({{"w", w}, {"b.bias", b}, {"z", z}}, config("lamb", 1e-6, 0.1));
  set_grad(w, {0.1f, -0.2f});
  set_grad(b, {0.1f, -0.2f});
  set_grad(z, {0.1f, -0.2f});
  opt.step(0.01);
  // update = m_hat/(sqrt(v_hat)+eps) + wd*p = (1.29999, -0.599995); ||p|| = 5,
  // ||update|| = 1.43177, trust 3.49218; p -= lr * trust * update.
  CHECK(value(w, 0) == Approx(2.9546020257).margin(1e-5));
  CHECK(value(w, 1) == Approx(4.0209528978).margin(1e-5));
  // No weight decay: no layer adaptation either (NVIDIA FusedLAMB), plain Adam step.
  CHECK(value(b, 0) == Approx(3.0 - 0.01 * 0.99999).margin(1e-6));
  CHECK(value(b, 1) == Approx(4.0 + 0.01 * 0.99999).margin(1e-6));
  // ||p|| = 0: trust ratio 1.
  CHECK(value(z, 0) == Approx(-0.01 * 0.99999).margin(1e-7));
  CHECK(value(z, 1) == Approx(0.01 * 0.99999).margin(1e-7));
}

TEST_CASE("AdamW matches torch::optim::AdamW to the last bits", "[train][optimizer]") {
  auto ours = random_params(7);
  auto theirs = clone(ours);
  const auto initial = clone(ours);
  auto cfg = config("adamw", 1e-8, 0.01);
  Optimizer opt(ours, cfg);
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& [name, p] : theirs) (train::is_exempt_from_decay(name, cfg.no_decay) ? no_decay : decay).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.01)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.0)));
  torch::optim::AdamW reference(groups);
  for (int step = 0; step < 5; ++step) {
    random_grads(ours, step);
    random_grads(theirs, step);
    opt.step(1e-3);
    reference.step();
  }
  for (std::size_t i = 0; i < ours.size(); ++i) {
    INFO(ours[i].first);
    CHECK(max_difference_in_ulps(ours[i].second, theirs[i].second, initial[i].second) <= 16.0);
  }
}

// adamw_update is compiled once per instruction-set level
// (util/cpu_dispatch.h); without FMA contraction each gives the same bits, so
// a run resumed on another CPU continues on the same numbers.
TEST_CASE("AdamW's kernel gives the same bits at every instruction-set level", "[train][optimizer]") {
  struct Restore {
    CpuCapability before = cpu_capability();
    ~Restore() { force_cpu_capability(before); }
  } restore;
  torch::manual_seed(5);
  const std::int64_t n = 1037;  // vector tails at every width
  const auto grad = torch::randn({n}), param0 = torch::randn({n}), m0 = torch::randn({n}) * 0.1,
             v0 = torch::rand({n}) * 0.01;
  train::AdamwScalars s;
  s.decay = 1.0f - 1e-3f * 0.01f;
  s.step_size = -1e-3f / 0.19f;
  s.sqrt_correction = 0.0447f;
  s.grad_scale = 0.7f;
  auto update = [&](CpuCapability level) {
    force_cpu_capability(level);
    auto p = param0.clone(), m = m0.clone(), v = v0.clone();
    train::adamw_update(p.data_ptr<float>(), grad.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), n, s);
    return std::vector<torch::Tensor>{p, m, v};
  };
  const auto portable = update(CpuCapability::portable);
  for (auto level : {CpuCapability::avx2, CpuCapability::avx512f, CpuCapability::x86_64_v4}) {
    if (level > supported_cpu_capability()) continue;
    INFO(to_string(level));
    const auto r = update(level);
    for (std::size_t i = 0; i < r.size(); ++i) CHECK(r[i].equal(portable[i]));
  }
}

TEST_CASE("AdamW gives the same bits on any number of threads", "[train][optimizer]") {
  const int threads = at::get_num_threads();
  std::vector<std::vector<std::pair<std::string, torch::Tensor>>> runs;
  for (int n : {1, 2, 3}) {
    at::set_num_threads(n);
    auto params = random_params(7);
    Optimizer opt(params, config("adamw", 1e-6, 0.01));
    for (int step = 0; step < 3; ++step) {
      random_grads(params, step);
      opt.step(1e-3);
    }
    runs.push_back(params);
  }
  at::set_num_threads(threads);
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    INFO(runs[0][i].first);
    CHECK(bit_equal(runs[0][i].second, runs[1][i].second));
    CHECK(bit_equal(runs[0][i].second, runs[2][i].second));
  }
}

TEST_CASE("parameters without a gradient are skipped", "[train][optimizer]") {
  auto w = param({1.0f});
  auto frozen = param({2.0f});
  Optimizer opt({{"w", w}, {"frozen", frozen}}, config("adamw", 1e-8, 0.01));
  set_grad(w, {0.5f});
  opt.step(0.1);
  CHECK(value(frozen) == 2.0);
  CHECK(opt.state_json()["param_steps"]["frozen"] == 0);
  CHECK(opt.state_json()["param_steps"]["w"] == 1);
  // When it gets a gradient later, its bias correction starts at step 1.
  set_grad(frozen, {0.5f});
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
  set_grad(frozen, {0.5f});
  opt.step(0.1);
  CHECK(value(frozen) == Approx(2.0 * 0.999 - 0.1).margin(1e-6));
  CHECK(opt.state_json()["param_steps"]["frozen"] == 1);
  CHECK(opt.steps() == 2);
}

TEST_CASE("a tied tensor listed twice is updated once", "[train][optimizer]") {
  auto w = param({1.0f});
  Optimizer opt({{"embeddings.weight", w}, {"decoder.weight", w}}, config("adamw", 1e-8, 0.01));
  CHECK(opt.parameter_names() == std::vector<std::string>{"embeddings.weight"});
  set_grad(w, {0.5f});
  opt.step(0.1);
  CHECK(value(w) == Approx(0.8990000020).margin(1e-6));
}

TEST_CASE("non-fp32 parameters are refused", "[train][optimizer]") {
  auto w = torch::ones({2}, torch::kBFloat16).set_requires_grad(true);
  CHECK_THROWS_WITH(Optimizer({{"w", w}}, OptimizerConfig{}), Catch::Contains("'w'") && Catch::Contains("fp32"));
}

TEST_CASE("saved optimizer state resumes bit-identically", "[train][optimizer]") {
  for (const std::string name : {"adamw", "lamb"}) {
    SECTION(name) {
      auto straight = random_params(3);
      auto resumed = clone(straight);
      auto cfg = config(name, 1e-6, 0.01);
      Optimizer a(straight, cfg);
      for (int step = 0; step < 3; ++step) {
        random_grads(straight, step);
        a.step(1e-3);
      }
      // Round trip through a real checkpoint file, as the trainer does.
      const auto dir = test::temp_dir("optimizer-state");
      io::save_safetensors(dir + "/optimizer.safetensors", a.state_tensors());
      write_file_atomic(dir + "/optimizer.json", a.state_json().dump());
      for (std::size_t i = 0; i < straight.size(); ++i) {
        torch::NoGradGuard g;
        resumed[i].second.copy_(straight[i].second);
      }
      Optimizer b(resumed, cfg);
      std::map<std::string, torch::Tensor> tensors;
      for (auto& [n, t] : io::SafetensorsReader(dir + "/optimizer.safetensors").load_all()) tensors[n] = t;
      b.load_state(tensors, nlohmann::json::parse(read_file(dir + "/optimizer.json")));
      CHECK(b.steps() == 3);
      for (int step = 3; step < 6; ++step) {
        random_grads(straight, step);
        random_grads(resumed, step);
        a.step(1e-3);
        b.step(1e-3);
      }
      for (std::size_t i = 0; i < straight.size(); ++i) {
        INFO(straight[i].first);
        CHECK(bit_equal(straight[i].second, resumed[i].second));
      }
    }
  }
}

TEST_CASE("loading optimizer state names what is missing or wrong", "[train][optimizer]") {
  auto params = random_params(5);
  Optimizer opt(params, OptimizerConfig{});
  std::map<std::string, torch::Tensor> tensors;
  for (auto& [n, t] : opt.state_tensors()) tensors[n] = t.clone();
  const auto json = opt.state_json();

  SECTION("missing tensor") {
    tensors.erase("exp_avg_sq/head.weight");
    CHECK_THROWS_AS(opt.load_state(tensors, json), bf::Error);
    CHECK_THROWS_WITH(opt.load_state(tensors, json), Catch::Contains("missing") && Catch::Contains("exp_avg_sq/head.weight"));
  }
  SECTION("wrong shape") {
    tensors["exp_avg/encoder.dense.bias"] = torch::zeros({8});
    CHECK_THROWS_WITH(opt.load_state(tensors, json), Catch::Contains("exp_avg/encoder.dense.bias") && Catch::Contains("shape"));
  }
  SECTION("unknown parameter") {
    tensors["exp_avg/pooler.dense.weight"] = torch::zeros({2});
    CHECK_THROWS_WITH(opt.load_state(tensors, json), Catch::Contains("exp_avg/pooler.dense.weight"));
  }
  SECTION("missing step count") {
    auto broken = json;
    broken["param_steps"].erase("head.weight");
    CHECK_THROWS_WITH(opt.load_state(tensors, broken), Catch::Contains("head.weight"));
  }
  SECTION("malformed json") {
    CHECK_THROWS_AS(opt.load_state(tensors, nlohmann::json::object()), bf::Error);
  }
}

TEST_CASE("clip_grad_norm: global norm, scaling only above the limit", "[train][clip]") {
  auto a = param({0.0f, 0.0f});
  auto b = param({0.0f});
  auto no_grad = param({1.0f});
  std::vector<torch::Tensor> params = {a, b, no_grad};
  set_grad(a, {3.0f, 4.0f});
  set_grad(b, {12.0f});

  SECTION("above the limit") {
    CHECK(train::clip_grad_norm(params, 1.0) == Approx(13.0));
    CHECK(value(a.grad(), 0) == Approx(3.0 / 13.0).epsilon(1e-6));
    CHECK(value(b.grad()) == Approx(12.0 / 13.0).epsilon(1e-6));
    CHECK(train::grad_norm(params) == Approx(1.0).epsilon(1e-5));
  }
  SECTION("below the limit") {
    CHECK(train::clip_grad_norm(params, 20.0) == Approx(13.0));
    CHECK(value(a.grad(), 1) == 4.0);
  }
  SECTION("off") {
    CHECK(train::clip_grad_norm(params, 0.0) == Approx(13.0));
    CHECK(value(b.grad()) == 12.0);
  }
  SECTION("non-finite") {
    set_grad(b, {std::numeric_limits<float>::infinity()});
    const double norm = train::clip_grad_norm(params, 1.0);
    CHECK_FALSE(train::all_finite(norm));
    CHECK(value(a.grad(), 0) == 3.0);
    set_grad(b, {std::nanf("")});
    CHECK_FALSE(train::all_finite(train::clip_grad_norm(params, 1.0)));
  }
  SECTION("no gradients") { CHECK(train::clip_grad_norm({no_grad}, 1.0) == 0.0); }
  CHECK(train::all_finite(1.0));
}

TEST_CASE("clip_grad_norm is bit-identical to torch's clip_grad_norm_", "[train][clip]") {
  auto ours = random_params(11);
  auto theirs = clone(ours);
  random_grads(ours, 0);
  random_grads(theirs, 0);
  std::vector<torch::Tensor> a, b;
  for (auto& [n, p] : ours) a.push_back(p);
  for (auto& [n, p] : theirs) b.push_back(p);
  const double norm = train::clip_grad_norm(a, 0.05);
  const double expected = torch::nn::utils::clip_grad_norm_(b, 0.05);
  CHECK(norm == Approx(expected).epsilon(1e-6));
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(bit_equal(a[i].grad(), b[i].grad()));
}

// The trainer hands the clipping factor to the optimizer instead of scaling
// the gradients first: the same updates to the bit, on the fused kernel
// (contiguous tensors), the foreach path (pooler.weight) and LAMB.
TEST_CASE("a step with the clipping factor equals clipping first, to the bit", "[train][clip][optimizer]") {
  for (const char* name : {"adamw", "lamb"}) {
    INFO(name);
    auto clipped = random_params(13);
    auto folded = clone(clipped);
    Optimizer first(clipped, config(name, 1e-8, 0.01));
    Optimizer second(folded, config(name, 1e-8, 0.01));
    std::vector<torch::Tensor> a, b;
    for (auto& [n, p] : clipped) a.push_back(p);
    for (auto& [n, p] : folded) b.push_back(p);
    for (int step = 0; step < 3; ++step) {
      random_grads(clipped, step);
      random_grads(folded, step);
      train::clip_grad_norm(a, 0.5);
      const auto clip = train::clip_factor(b, 0.5);
      REQUIRE(clip.scale < 1.0);  // the limit is below the gradients' norm: clipping happens
      first.step(1e-3);
      second.step(1e-3, clip.scale);
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      INFO(clipped[i].first);
      CHECK(bit_equal(a[i], b[i]));
    }
  }
}

TEST_CASE("three steps of our AdamW + clipping match HF's reference run", "[train][optimizer][reference]") {
  const auto dir = test::shared_path("reference/tiny-pretrain");
  model::BertForPreTraining net(io::load_model_config(dir));
  REQUIRE(io::load_weights(*net, dir + "/model.safetensors").missing.empty());
  net->eval();  // the reference trains with dropout off

  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : net->named_parameters()) named.emplace_back(item.key(), item.value());
  OptimizerConfig cfg;  // default no_decay: biases and LayerNorm weights
  cfg.lr = 1e-3;
  cfg.beta1 = 0.9;
  cfg.beta2 = 0.999;
  cfg.eps = 1e-8;
  cfg.weight_decay = 0.01;
  cfg.clip_grad_norm = 1.0;
  Optimizer optimizer(named, cfg);
  for (const auto& name : optimizer.exempt_parameter_names()) {
    INFO(name);
    CHECK((name.find("LayerNorm") != std::string::npos || name.substr(name.size() - 5) == ".bias"));
  }

  const auto in = test::reference_pretrain_inputs();

  const auto expected = nlohmann::json::parse(read_file(dir + "/train_expected.json"));
  for (const auto& step : expected["steps"]) {
    INFO("step " << step["step"].get<int>());
    optimizer.zero_grad();
    auto out = net->forward(in);
    out.loss.backward();
    const double norm = train::clip_grad_norm(optimizer.parameters(), cfg.clip_grad_norm);
    const double expect_loss = step["total_loss"].get<double>();
    const double expect_norm = step["grad_norm_before_clip"].get<double>();
    REQUIRE(std::abs(out.loss.item<double>() - expect_loss) <= 1e-5 + 1e-4 * std::abs(expect_loss));
    REQUIRE(std::abs(norm - expect_norm) <= 1e-5 + 1e-3 * std::abs(expect_norm));
    optimizer.step(cfg.lr);
  }
  io::SafetensorsReader after(dir + "/train_after.safetensors");
  for (const auto& item : net->named_parameters()) {
    INFO(item.key());
    REQUIRE(after.contains(item.key()));
    test::require_close(item.value(), after.load(item.key()), 1e-6, 1e-4, item.key());
  }
}
