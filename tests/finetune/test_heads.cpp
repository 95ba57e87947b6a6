// Classifier heads: HF names for the pooler head, and every head saves,
// loads and rebuilds itself from config.json.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <set>

#include "../support/shared_data.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/bert_for_sequence_classification.h"
#include "model/init_weights.h"

using namespace bf;

namespace {

model::BertConfig tiny_config(const model::HeadOptions& head) {
  auto c = model::BertConfig::preset("tiny");
  c.vocab_size = 200;
  c.hidden_size = 32;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.num_hidden_layers = 3;
  c.max_position_embeddings = 32;
  c.num_labels = 3;
  c.architectures = {"BertForSequenceClassification"};
  head.store_in(c);
  return c;
}

std::set<std::string> state_names(const torch::nn::Module& m) {
  std::set<std::string> names;
  for (const auto& [name, t] : io::model_state(m))
    if (name.find("position_ids") == std::string::npos) names.insert(name);
  return names;
}

}  // namespace

TEST_CASE("the pooler head keeps HF's parameter names", "[finetune][heads]") {
  const auto dir = test::shared_path("reference/tiny-cls");
  model::BertForSequenceClassification net(io::load_model_config(dir));
  io::SafetensorsReader reference(dir + "/model.safetensors");
  std::set<std::string> expected;
  for (const auto& e : reference.entries())
    if (e.name.find("position_ids") == std::string::npos) expected.insert(e.name);
  CHECK(state_names(*net) == expected);
  CHECK(model::HeadOptions::of(io::load_model_config(dir)).is_hf_compatible());
}

TEST_CASE("every head saves, loads and gives the same logits", "[finetune][heads]") {
  std::vector<model::HeadOptions> heads{
      {model::HeadType::Pooler, -1, 0, 0, 0}, {model::HeadType::Cls, -1, 0, 0, 0}, {model::HeadType::Mean, 2, 0, 0, 0}, {model::HeadType::Attention, -1, 0, 4, 0},
      {model::HeadType::Attention, -1, 3, 0, 16}, {model::HeadType::Mean, -1, 2, 0, 0}, {model::HeadType::Pooler, -2, 0, 0, 0}};
  auto ids = torch::randint(1, 200, {3, 9}, torch::kLong);
  auto mask = torch::ones({3, 9}, torch::kLong);
  mask.index_put_({0, torch::indexing::Slice(5)}, 0);
  for (const auto& head : heads) {
    INFO(head.to_json().dump());
    const auto config = tiny_config(head);
    torch::manual_seed(3);
    model::BertForSequenceClassification net(config);
    model::init_bert_weights(*net, config);
    net->eval();
    const auto names = state_names(*net);
    CHECK(names.count("classifier.weight") == 1);
    CHECK(names.count("bert.pooler.dense.weight") == (head.type == model::HeadType::Pooler ? 1u : 0u));
    if (head.type == model::HeadType::Attention) CHECK(names.count("head.attention.self.query.weight") == 1);
    if (head.weighted_layers > 0) CHECK(names.count("head.layer_weights") == 1);

    const auto dir = test::temp_dir("ft-head");
    io::save_model_dir(dir, *net, net->config());
    const auto loaded_config = io::load_model_config(dir);
    CHECK(model::HeadOptions::of(loaded_config).to_json() == head.to_json());
    CHECK(loaded_config.extra.contains("bertforge_head") == !head.is_hf_compatible());
    model::BertForSequenceClassification again(loaded_config);
    const auto report = io::load_weights(*again, dir + "/model.safetensors");
    CHECK(report.missing.empty());
    CHECK(report.unexpected.empty());
    again->eval();
    torch::NoGradGuard no_grad;
    auto a = net->forward(ids, {}, mask).logits;
    auto b = again->forward(ids, {}, mask).logits;
    CHECK(torch::equal(a, b));
  }
}

TEST_CASE("padding does not change the mean and attention heads' outputs", "[finetune][heads]") {
  for (const auto type : {model::HeadType::Mean, model::HeadType::Attention}) {
    INFO(model::head_type_names().name(type));
    const auto config = tiny_config({type, -1, 0, 0, 0});
    torch::manual_seed(5);
    model::BertForSequenceClassification net(config);
    model::init_bert_weights(*net, config);
    net->eval();
    torch::NoGradGuard no_grad;
    auto ids = torch::randint(1, 200, {1, 6}, torch::kLong);
    auto short_logits = net->forward(ids, {}, torch::ones({1, 6}, torch::kLong)).logits;
    auto padded_ids = torch::cat({ids, torch::zeros({1, 4}, torch::kLong)}, 1);
    auto padded_mask = torch::cat({torch::ones({1, 6}, torch::kLong), torch::zeros({1, 4}, torch::kLong)}, 1);
    auto padded_logits = net->forward(padded_ids, {}, padded_mask).logits;
    CHECK(torch::allclose(short_logits, padded_logits, 1e-4, 1e-5));
  }
}

TEST_CASE("bad head settings are refused", "[finetune][heads]") {
  auto c = tiny_config({});
  CHECK_THROWS_WITH(model::HeadOptions({model::HeadType::Cls, 7, 0, 0, 0}).validate(c),
                    Catch::Matchers::Contains("head.layer 7"));
  CHECK_THROWS_WITH(model::HeadOptions({model::HeadType::Attention, -1, 0, 5, 0}).validate(c),
                    Catch::Matchers::Contains("attention_heads"));
}
