// BertForTokenClassification and BertForQuestionAnswering against Hugging
// Face's outputs, losses and gradients (../shared/reference/tiny-tokcls and
// tiny-qa; tolerances from its README).
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <string>

#include "../support/shared_data.h"
#include "../support/tensor_match.h"
#include "io/batch_json.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/any_bert.h"
#include "model/bert_for_question_answering.h"
#include "model/bert_for_token_classification.h"

using namespace bf;

namespace {

constexpr double kOutAtol = 1e-5, kOutRtol = 1e-4;
constexpr double kGradAtol = 1e-6, kGradRtol = 1e-3;

template <class Net>
Net load_reference(const std::string& name, model::Architecture expected) {
  const auto dir = test::shared_path("reference/" + name);
  auto config = io::load_model_config(dir);
  REQUIRE(model::architecture_of(config) == expected);
  Net net(config);
  auto report = io::load_weights(*net, dir + "/model.safetensors");
  INFO(report.summary());
  REQUIRE(report.missing.empty());
  REQUIRE(report.unexpected.empty());
  net->eval();
  return net;
}

void require_gradients_match(torch::nn::Module& net, const std::string& name) {
  io::SafetensorsReader grads(test::shared_path("reference/" + name + "/grads.safetensors"));
  std::size_t checked = 0;
  for (const auto& item : net.named_parameters()) {
    INFO(item.key());
    REQUIRE(grads.contains(item.key()));
    test::require_close(item.value().grad(), grads.load(item.key()), kGradAtol, kGradRtol, item.key());
    ++checked;
  }
  REQUIRE(checked == grads.entries().size());
}

}  // namespace

TEST_CASE("BertForTokenClassification matches HF logits, loss and gradients", "[model][reference]") {
  auto net = load_reference<model::BertForTokenClassification>("tiny-tokcls", model::Architecture::TokenClassification);
  REQUIRE(net->config().num_labels == 5);
  REQUIRE(net->config().label_name(1) == "B-PER");
  auto batch = io::read_batch_json(test::shared_path("reference/tiny-tokcls/input.json"));
  auto out = net->forward(batch.at("input_ids"), batch.at("token_type_ids"), batch.at("attention_mask"),
                          batch.at("labels"));
  io::SafetensorsReader expected(test::shared_path("reference/tiny-tokcls/expected.safetensors"));
  test::require_close(out.logits, expected.load("logits"), kOutAtol, kOutRtol, "logits");
  test::require_close(out.loss.reshape({1}), expected.load("loss").reshape({1}), kOutAtol, kOutRtol, "loss");
  out.loss.backward();
  require_gradients_match(*net, "tiny-tokcls");
}

TEST_CASE("BertForQuestionAnswering matches HF span logits, loss (clamped positions) and gradients",
          "[model][reference]") {
  auto net = load_reference<model::BertForQuestionAnswering>("tiny-qa", model::Architecture::QuestionAnswering);
  auto batch = io::read_batch_json(test::shared_path("reference/tiny-qa/input.json"));
  auto out = net->forward(batch.at("input_ids"), batch.at("token_type_ids"), batch.at("attention_mask"),
                          batch.at("start_positions"), batch.at("end_positions"));
  io::SafetensorsReader expected(test::shared_path("reference/tiny-qa/expected.safetensors"));
  test::require_close(out.start_logits, expected.load("start_logits"), kOutAtol, kOutRtol, "start_logits");
  test::require_close(out.end_logits, expected.load("end_logits"), kOutAtol, kOutRtol, "end_logits");
  test::require_close(out.loss.reshape({1}), expected.load("loss").reshape({1}), kOutAtol, kOutRtol, "loss");
  out.loss.backward();
  require_gradients_match(*net, "tiny-qa");
}

TEST_CASE("token and span heads round-trip through an HF model directory", "[model][io]") {
  for (const auto& name : {std::string("tiny-tokcls"), std::string("tiny-qa")}) {
    const auto src = test::shared_path("reference/" + name);
    auto config = io::load_model_config(src);
    const auto arch = model::architecture_of(config);
    auto net = model::make_model(config, arch);
    REQUIRE(io::load_weights(*net, src + "/model.safetensors").missing.empty());
    const auto dir = test::temp_dir("roundtrip-" + name);
    io::save_model_dir(dir, *net, config);
    auto again = io::load_model_config(dir);
    REQUIRE(again.architectures == config.architectures);
    REQUIRE(again.num_labels == config.num_labels);
    for (std::int64_t i = 0; i < config.num_labels; ++i) REQUIRE(again.label_name(i) == config.label_name(i));
    auto copy = model::make_model(again, arch);
    const auto report = io::load_weights(*copy, dir + "/model.safetensors");
    REQUIRE(report.missing.empty());
    REQUIRE(report.unexpected.empty());
    REQUIRE(report.loaded.size() == io::model_state(*net).size());
  }
}
