#include <catch2/catch.hpp>

#include "../support/shared_data.h"
#include "model/bert_config.h"
#include "model/model_section.h"
#include "util/error.h"

using bf::model::BertConfig;
namespace model = bf::model;

TEST_CASE("presets have the documented shapes", "[model][config]") {
  struct Row {
    const char* name;
    std::int64_t layers, hidden, heads;
  };
  for (const Row& r : {Row{"tiny", 2, 128, 2}, Row{"mini", 4, 256, 4}, Row{"small", 4, 512, 8},
                       Row{"medium", 8, 512, 8}, Row{"base", 12, 768, 12}, Row{"large", 24, 1024, 16}}) {
    auto c = BertConfig::preset(r.name);
    CHECK(c.num_hidden_layers == r.layers);
    CHECK(c.hidden_size == r.hidden);
    CHECK(c.num_attention_heads == r.heads);
    CHECK(c.intermediate_size == 4 * r.hidden);
  }
  REQUIRE_THROWS_WITH(BertConfig::preset("huge"), Catch::Contains("unknown model preset 'huge'"));
}

TEST_CASE("HF config.json reads with HF defaults and round-trips", "[model][config]") {
  auto c = BertConfig::load(bf::test::shared_path("reference/tiny-cls/config.json"));
  CHECK(c.hidden_size == 64);
  CHECK(c.num_labels == 3);
  CHECK(c.id2label.size() == 3);
  auto again = BertConfig::from_json(c.to_json());
  CHECK(again.to_json() == c.to_json());
  CHECK(again.label_id(c.id2label[2]) == 2);
  // Defaults for absent fields are HF's.
  auto d = BertConfig::from_json(nlohmann::json::object());
  CHECK(d.vocab_size == 30522);
  CHECK(d.layer_norm_eps == 1e-12);
  CHECK(d.hidden_act == "gelu");
}

// fused_kernels says how this process computes, not what the model is: it
// never reaches config.json (which HF must load as it is), and a key of that
// name in one is kept as an unknown key, not read.
TEST_CASE("fused_kernels is a runtime option, not a config.json key", "[model][config]") {
  auto c = BertConfig::preset("tiny");
  CHECK(c.fused_kernels);
  c.fused_kernels = false;
  const auto j = c.to_json();
  CHECK_FALSE(j.contains("fused_kernels"));
  CHECK(j == BertConfig::preset("tiny").to_json());
  CHECK(BertConfig::from_json(j).fused_kernels);
  auto with_key = j;
  with_key["fused_kernels"] = false;
  const auto read = BertConfig::from_json(with_key);
  CHECK(read.fused_kernels);
  CHECK(read.to_json() == with_key);  // round-trips untouched
}

TEST_CASE("invalid configs are refused naming the field", "[model][config]") {
  auto bad = [](nlohmann::json j) { return BertConfig::from_json(j, "cfg.json"); };
  REQUIRE_THROWS_WITH(bad({{"hidden_size", 100}, {"num_attention_heads", 12}}),
                      Catch::Contains("cfg.json") && Catch::Contains("divisible by num_attention_heads"));
  REQUIRE_THROWS_WITH(bad({{"hidden_act", "gelu_fast"}}), Catch::Contains("hidden_act 'gelu_fast'"));
  REQUIRE_THROWS_WITH(bad({{"vocab_size", 0}}), Catch::Contains("vocab_size must be > 0"));
  REQUIRE_THROWS_WITH(bad({{"hidden_size", "big"}}), Catch::Contains("'hidden_size' has the wrong type"));
  REQUIRE_THROWS_WITH(bad({{"model_type", "gpt2"}}), Catch::Contains("only 'bert'"));
  REQUIRE_THROWS_WITH(bad({{"hidden_dropout_prob", 1.5}}), Catch::Contains("hidden_dropout_prob"));
}

TEST_CASE("unknown config.json keys survive a round trip", "[model][config]") {
  auto c = BertConfig::from_json({{"transformers_version", "4.30.0"}, {"bertforge", {{"head", "mean"}}}});
  auto j = c.to_json();
  CHECK(j["transformers_version"] == "4.30.0");
  CHECK(j["bertforge"]["head"] == "mean");
}

TEST_CASE("one field table: the model section overrides, config.json and the shape check agree", "[model][config]") {
  model::ModelSection section;
  section.preset = "tiny";
  section.values.hidden_size = 64;
  section.values.hidden_dropout_prob = 0.0;
  section.given = {"hidden_size", "hidden_dropout_prob"};
  const auto c = section.resolve(1000, 0);
  CHECK(c.hidden_size == 64);
  CHECK(c.intermediate_size == 256);  // follows a new hidden_size unless given
  CHECK(c.hidden_dropout_prob == 0.0);
  CHECK(c.num_hidden_layers == model::BertConfig::preset("tiny").num_hidden_layers);
  CHECK(c.vocab_size == 1000);

  const auto back = model::BertConfig::from_json(c.to_json());
  CHECK(model::shape_differences(back, c).empty());
  auto other = c;
  other.num_hidden_layers = 7;
  other.hidden_dropout_prob = 0.3;  // not a shape
  const auto diff = model::shape_differences(other, c);
  CHECK(diff == "\n  num_hidden_layers: 7 there vs 2 in this config");
}
