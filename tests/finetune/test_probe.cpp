// The probe: a deterministic logistic regression, per-class subsets, and
// probes that leave the encoder and every random generator as they were.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <map>

#include "finetune/classify/classify_task.h"
#include "finetune/probe/logistic_regression.h"
#include "finetune/probe/probe.h"
#include "finetune/probe/probe_data.h"
#include "ft_fixture.h"
#include "model/init_weights.h"
#include "tokenizer/tokenizer.h"

using namespace bf;

namespace {

// Three Gaussian blobs in 6 dimensions, 40 points each.
std::pair<torch::Tensor, torch::Tensor> blobs(std::uint64_t seed) {
  torch::manual_seed(seed);
  auto centers = torch::randn({3, 6}) * 3;
  auto y = torch::arange(3).repeat_interleave(40);
  auto x = centers.index_select(0, y) + torch::randn({120, 6});
  return {x, y};
}

// An L2 H32 encoder over BERT's uncased vocabulary, initialised from `seed`.
model::BertModel tiny_encoder(std::uint64_t seed) {
  auto c = model::BertConfig::preset("tiny");
  c.vocab_size = 30522;
  c.hidden_size = 32;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 64;
  torch::manual_seed(seed);
  model::BertModel encoder(c);
  model::init_bert_weights(*encoder, c);
  return encoder;
}

struct ProbeSetup {
  std::string dir = test::temp_dir("probe");
  ft::ProbeSection section;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  ProbeSetup() {
    section.train = test::sst2_slice("train", dir + "/train.tsv", 60);
    section.dev = test::sst2_slice("dev", dir + "/dev.tsv", 30);
    section.text_column = "sentence";
    section.max_seq_length = 48;
    section.steps = 4;
    section.batch_size = 8;
    tokenizer = tok::load_tokenizer(test::vocab_dir(dir));
  }
};

std::vector<torch::Tensor> weights_of(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

}  // namespace

TEST_CASE("logistic regression separates blobs, reaches its optimum and is deterministic", "[probe]") {
  const auto [x, y] = blobs(3);
  const auto model = ft::fit_logistic_regression(x, y, 3);
  REQUIRE(model.predict(x).eq(y).to(torch::kDouble).mean().item<double>() >= 0.97);
  // At the optimum the gradient of mean CE + l2/2 |W|^2 vanishes.
  auto w = model.weight.clone().requires_grad_();
  auto b = model.bias.clone().requires_grad_();
  const auto xs = (x.to(torch::kDouble) - model.mean) / model.scale;
  auto loss = torch::nn::functional::cross_entropy(torch::addmm(b, xs, w), y) + 0.5 / 120 * w.pow(2).sum();
  loss.backward();
  CHECK(w.grad().abs().max().item<double>() < 1e-6);
  CHECK(b.grad().abs().max().item<double>() < 1e-6);
  const auto again = ft::fit_logistic_regression(x, y, 3);
  REQUIRE(torch::equal(again.weight, model.weight));
  REQUIRE(torch::equal(again.bias, model.bias));
}

TEST_CASE("a stronger L2 penalty shrinks the weights, a constant feature is harmless", "[probe]") {
  auto [x, y] = blobs(5);
  x.select(1, 0).fill_(4.0);  // no spread: must not divide by zero
  const auto loose = ft::fit_logistic_regression(x, y, 3, 1e-4);
  const auto tight = ft::fit_logistic_regression(x, y, 3, 1.0);
  REQUIRE(torch::isfinite(loose.weight).all().item<bool>());
  REQUIRE(tight.weight.norm().item<double>() < loose.weight.norm().item<double>());
}

TEST_CASE("examples_per_class keeps n of each class, in file order, the same for the same seed", "[probe]") {
  ft::classify::Dataset data;
  for (int i = 0; i < 30; ++i) {
    ft::classify::Example e;
    e.label = i % 3 == 0 ? 0 : 1;  // 10 of class 0, 20 of class 1
    data.examples.push_back(e);
  }
  const auto kept = ft::classify::examples_per_class(data, 4, 9);
  std::map<std::int64_t, int> per_class;
  for (auto i : kept) ++per_class[data.examples[static_cast<std::size_t>(i)].label];
  REQUIRE(per_class == std::map<std::int64_t, int>{{0, 4}, {1, 4}});
  REQUIRE(std::is_sorted(kept.begin(), kept.end()));
  REQUIRE(ft::classify::examples_per_class(data, 4, 9) == kept);
  REQUIRE(ft::classify::examples_per_class(data, 4, 10) != kept);
  REQUIRE(ft::classify::examples_per_class(data, 50, 9).size() == 30);  // fewer than asked: all of them
}

TEST_CASE("probe data: labels_per_class subsets train, a dev label never seen in train names its line", "[probe]") {
  ProbeSetup s;
  s.section.labels_per_class = 5;
  const auto data = ft::load_probe_data(s.section, *s.tokenizer);
  REQUIRE(data.label_names == std::vector<std::string>{"0", "1"});
  REQUIRE(data.train.size() == 10);
  REQUIRE(data.dev.size() == 30);

  test::write_text(s.dir + "/bad_dev.tsv", "sentence\tlabel\ngood film\t1\nodd one\t7\n");
  s.section.dev = s.dir + "/bad_dev.tsv";
  try {
    (void)ft::load_probe_data(s.section, *s.tokenizer);
    FAIL("an unknown dev label was accepted");
  } catch (const bf::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("bad_dev.tsv:3"));
  }
}

TEST_CASE("a probe leaves the encoder's weights, its mode and every random generator as they were", "[probe]") {
  ProbeSetup s;
  const auto data = ft::load_probe_data(s.section, *s.tokenizer);
  auto encoder = tiny_encoder(1);
  encoder->train();
  const auto before = weights_of(*encoder);

  for (auto mode : {ft::ProbeMode::Linear, ft::ProbeMode::Finetune}) {
    INFO(ft::probe_mode_names().name(mode));
    s.section.mode = mode;
    torch::manual_seed(77);
    const auto expected_draw = torch::rand({4});
    torch::manual_seed(77);
    const auto first = ft::run_probe(encoder, data, s.section, torch::kCPU);
    REQUIRE(torch::equal(torch::rand({4}), expected_draw));  // the run's next draw is unchanged
    REQUIRE(encoder->is_training());
    const auto after = weights_of(*encoder);
    for (std::size_t i = 0; i < before.size(); ++i) REQUIRE(torch::equal(before[i], after[i]));
    // Seeded: the same probe, the same figures.
    const auto second = ft::run_probe(encoder, data, s.section, torch::kCPU);
    REQUIRE(second.accuracy == first.accuracy);
    REQUIRE(second.macro_f1 == first.macro_f1);
    REQUIRE(first.train_examples == 60);
    REQUIRE(first.dev_examples == 30);
    REQUIRE(first.accuracy >= 0.0);
    REQUIRE(first.accuracy <= 1.0);
  }
}

TEST_CASE("mean-pooled features ignore padding", "[probe]") {
  ProbeSetup s;
  const auto data = ft::load_probe_data(s.section, *s.tokenizer);
  auto encoder = tiny_encoder(2);
  encoder->eval();
  // Batched (padded to the longest of 60) vs one example at a time (no padding).
  const auto batched = ft::mean_pooled_features(encoder, data.train, data.pad_id, torch::kCPU, 64);
  const auto single = ft::mean_pooled_features(encoder, data.train, data.pad_id, torch::kCPU, 1);
  REQUIRE(batched.sizes() == single.sizes());
  REQUIRE(torch::allclose(batched, single, 1e-4, 1e-5));
}

TEST_CASE("data.labels_per_class trains on n examples of each class, drawn with run.seed", "[probe][finetune]") {
  const auto dir = test::temp_dir("few-labels");
  const auto train = test::sst2_slice("train", dir + "/train.tsv", 60);
  const auto dev = test::sst2_slice("dev", dir + "/dev.tsv", 10);
  const auto config = test::tiny_finetune_config(dir, train, dev, {"data.labels_per_class=4"});
  ft::classify::ClassifyTask task(config, torch::kCPU);
  REQUIRE(task.training_examples() == 8);
  try {
    (void)test::tiny_finetune_config(dir, train, dev, {"data.labels_per_class=4", "data.task=regression"});
    FAIL("labels_per_class was accepted for regression");
  } catch (const bf::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("data.labels_per_class"));
  }
}
