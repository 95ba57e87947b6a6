#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../support/shared_data.h"
#include "../support/tensor_match.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/any_bert.h"
#include "model/bert_for_pretraining.h"
#include "model/bert_for_sequence_classification.h"
#include "util/error.h"
#include "util/fs.h"

using namespace bf;

namespace {

model::BertConfig small_config() {
  auto c = model::BertConfig::preset("tiny");
  c.vocab_size = 300;
  c.max_position_embeddings = 32;
  c.architectures = {"BertForPreTraining"};
  return c;
}

model::PreTrainingInputs random_batch(std::int64_t vocab) {
  torch::manual_seed(7);
  model::PreTrainingInputs in;
  in.input_ids = torch::randint(5, vocab, {2, 12}, torch::kLong);
  in.token_type_ids = torch::cat({torch::zeros({2, 6}, torch::kLong), torch::ones({2, 6}, torch::kLong)}, 1);
  in.attention_mask = torch::ones({2, 12}, torch::kLong);
  in.attention_mask[1].narrow(0, 9, 3).zero_();
  return in;
}

}  // namespace

TEST_CASE("init -> save -> load gives identical tensors and outputs", "[io][hf]") {
  const auto dir = test::temp_dir("hf-roundtrip");
  const auto config = small_config();
  torch::manual_seed(1);
  auto original = model::make_model(config, model::Architecture::PreTraining);
  io::save_model_dir(dir, *original, config);
  REQUIRE(std::filesystem::exists(dir + "/config.json"));

  // Tied decoder tensors are not written, as transformers writes them.
  io::SafetensorsReader file(dir + "/model.safetensors");
  REQUIRE_FALSE(file.contains("cls.predictions.decoder.weight"));
  REQUIRE(file.contains("cls.predictions.bias"));

  auto loaded_config = io::load_model_config(dir);
  REQUIRE(loaded_config.to_json() == config.to_json());
  torch::manual_seed(2);  // a different init, so the copy must overwrite it
  auto copy = model::make_model(loaded_config, model::architecture_of(loaded_config));
  auto report = io::load_weights(*copy, io::find_weights_file(dir));
  REQUIRE(report.missing.empty());
  REQUIRE(report.unexpected.empty());
  auto a = original->named_parameters();
  auto b = copy->named_parameters();
  REQUIRE(a.size() == b.size());
  for (const auto& item : a) REQUIRE(torch::equal(item.value(), b[item.key()]));

  original->eval();
  copy->eval();
  torch::NoGradGuard no_grad;
  auto in = random_batch(config.vocab_size);
  auto x = original->as<model::BertForPreTraining>()->forward(in, true);
  auto y = copy->as<model::BertForPreTraining>()->forward(in, true);
  REQUIRE(torch::equal(x.prediction_logits, y.prediction_logits));
  REQUIRE(torch::equal(x.pooler_output, y.pooler_output));
}

TEST_CASE("initialisation follows Google/HF", "[model][init]") {
  auto config = small_config();
  config.initializer_range = 0.05;
  torch::manual_seed(3);
  auto net = model::make_model(config, model::Architecture::PreTraining);
  auto params = net->named_parameters();
  auto word = params["bert.embeddings.word_embeddings.weight"];
  REQUIRE(word[config.pad_token_id].abs().sum().item<double>() == 0.0);
  REQUIRE(std::abs(word.std().item<double>() - 0.05) < 0.005);
  REQUIRE(std::abs(params["bert.encoder.layer.0.attention.self.query.weight"].std().item<double>() - 0.05) < 0.005);
  REQUIRE(params["bert.encoder.layer.0.attention.self.query.bias"].abs().sum().item<double>() == 0.0);
  REQUIRE(params["bert.encoder.layer.1.output.LayerNorm.weight"].eq(1).all().item<bool>());
  REQUIRE(params["bert.encoder.layer.1.output.LayerNorm.bias"].eq(0).all().item<bool>());
  REQUIRE(params["cls.predictions.bias"].eq(0).all().item<bool>());
}

TEST_CASE("parameter names are HF's state-dict names", "[model][names]") {
  io::SafetensorsReader reference(test::shared_path("reference/tiny-pretrain/model.safetensors"));
  auto config = io::load_model_config(test::shared_path("reference/tiny-pretrain"));
  model::BertForPreTraining net(config);
  std::set<std::string> ours, theirs;
  for (const auto& item : net->named_parameters()) ours.insert(item.key());
  for (const auto& e : reference.entries()) theirs.insert(e.name);
  REQUIRE(ours == theirs);
}

TEST_CASE("loading refuses a shape mismatch naming the tensor", "[io][hf]") {
  auto config = small_config();
  config.hidden_size = 64;
  config.num_attention_heads = 2;
  config.intermediate_size = 128;
  model::BertForPreTraining net(config);
  REQUIRE_THROWS_WITH(io::load_weights(*net, test::shared_path("reference/tiny-pretrain/model.safetensors")),
                      Catch::Contains("bert.embeddings.position_embeddings.weight") &&
                          Catch::Contains("has shape [64, 64] but the model expects [32, 64]"));
}

TEST_CASE("a directory without weights or config is a clear error", "[io][hf]") {
  const auto dir = test::temp_dir("hf-empty");
  REQUIRE_THROWS_WITH(io::find_weights_file(dir), Catch::Contains("no model.safetensors"));
  REQUIRE_THROWS_WITH(io::load_model_config(dir), Catch::Contains("no config.json"));
}

TEST_CASE("classification export and import keep the label maps and outputs", "[io][hf]") {
  const auto dir = test::temp_dir("hf-cls");
  auto config = small_config();
  config.architectures = {"BertForSequenceClassification"};
  config.num_labels = 3;
  config.id2label = {"neg", "neutral", "pos"};
  torch::manual_seed(4);
  auto net = model::make_model(config, model::Architecture::SequenceClassification);
  io::save_model_dir(dir, *net, config);
  auto loaded = io::load_model_config(dir);
  REQUIRE(loaded.id2label == config.id2label);
  REQUIRE(loaded.label_id("pos") == 2);
  auto copy = model::make_model(loaded, model::architecture_of(loaded));
  REQUIRE(io::load_weights(*copy, dir + "/model.safetensors").missing.empty());
  net->eval();
  copy->eval();
  auto in = random_batch(config.vocab_size);
  torch::NoGradGuard no_grad;
  auto x = net->as<model::BertForSequenceClassification>()->forward(in.input_ids, in.token_type_ids, in.attention_mask);
  auto y = copy->as<model::BertForSequenceClassification>()->forward(in.input_ids, in.token_type_ids, in.attention_mask);
  REQUIRE(torch::equal(x.logits, y.logits));
}

TEST_CASE("a config.json whose sizes its weights cannot hold is refused before anything is allocated", "[io][hf]") {
  const auto dir = test::temp_dir("hf-huge-config");
  const auto config = small_config();
  auto net = model::make_model(config, model::Architecture::PreTraining);
  io::save_model_dir(dir, *net, config);
  REQUIRE_NOTHROW(io::load_model_config(dir));
  auto json = nlohmann::json::parse(read_file(dir + "/config.json"));
  json["vocab_size"] = 4000000000LL;  // 4e9 x 128 floats: 2 TB if believed
  write_file_atomic(dir + "/config.json", json.dump());
  REQUIRE_THROWS_WITH(io::load_model_config(dir), Catch::Contains("config.json") &&
                                                      Catch::Contains("does not belong to these weights"));
}
