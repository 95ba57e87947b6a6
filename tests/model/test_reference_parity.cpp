// The model must reproduce Hugging Face's outputs, losses and gradients on the
// reference models in ../shared/reference (tolerances from its README).
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include "../support/reference_inputs.h"
#include "../support/shared_data.h"
#include "../support/tensor_match.h"
#include "io/batch_json.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/any_bert.h"
#include "model/bert_for_pretraining.h"
#include "model/bert_for_sequence_classification.h"
#include "model/embeddings.h"

using namespace bf;

namespace {

constexpr double kOutAtol = 1e-5, kOutRtol = 1e-4;
constexpr double kGradAtol = 1e-6, kGradRtol = 1e-3;

// fused_kernels off: every module's plain LibTorch expression, which must be
// HF's maths as much as the fused kernels are.
model::BertForPreTraining load_pretrain(const std::string& weights_name, bool fused_kernels = true) {
  const auto dir = test::shared_path("reference/tiny-pretrain");
  auto config = io::load_model_config(dir);
  config.fused_kernels = fused_kernels;
  model::BertForPreTraining net(config);
  auto report = io::load_weights(*net, dir + "/" + weights_name);
  INFO(report.summary());
  REQUIRE(report.missing.empty());
  REQUIRE(report.unexpected.empty());
  net->eval();
  return net;
}

void check_pretrain_outputs(model::BertForPreTraining& net) {
  io::SafetensorsReader expected(test::shared_path("reference/tiny-pretrain/expected.safetensors"));
  torch::NoGradGuard no_grad;
  auto out = net->forward(test::reference_pretrain_inputs(), /*all_position_logits=*/true);
  test::require_close(out.last_hidden_state, expected.load("last_hidden_state"), kOutAtol, kOutRtol, "last_hidden_state");
  test::require_close(out.pooler_output, expected.load("pooler_output"), kOutAtol, kOutRtol, "pooler_output");
  test::require_close(out.prediction_logits, expected.load("prediction_logits"), kOutAtol, kOutRtol, "prediction_logits");
  test::require_close(out.seq_relationship_logits, expected.load("seq_relationship_logits"), kOutAtol, kOutRtol,
                      "seq_relationship_logits");
  test::require_close(out.mlm_loss.reshape({1}), expected.load("mlm_loss"), kOutAtol, kOutRtol, "mlm_loss");
  test::require_close(out.nsp_loss.reshape({1}), expected.load("nsp_loss"), kOutAtol, kOutRtol, "nsp_loss");
  test::require_close(out.loss.reshape({1}), expected.load("total_loss"), kOutAtol, kOutRtol, "total_loss");
}

}  // namespace

TEST_CASE("BertForPreTraining matches HF outputs and losses", "[model][reference]") {
  for (const bool fused : {true, false}) {
    INFO("fused_kernels " << fused);
    auto net = load_pretrain("model.safetensors", fused);
    check_pretrain_outputs(net);
  }
}

TEST_CASE("legacy gamma/beta names load to the same model", "[model][reference]") {
  auto net = load_pretrain("legacy_names.safetensors");
  check_pretrain_outputs(net);
}

TEST_CASE("BF16 weights load and upcast", "[model][reference]") {
  auto net = load_pretrain("model_bf16.safetensors");
  io::SafetensorsReader bf16(test::shared_path("reference/tiny-pretrain/model_bf16.safetensors"));
  for (const auto& item : net->named_parameters()) {
    if (!bf16.contains(item.key())) continue;
    REQUIRE(item.value().scalar_type() == torch::kFloat32);
    REQUIRE(torch::equal(item.value(), bf16.load(item.key()).to(torch::kFloat32)));
  }
}

TEST_CASE("sparse MLM logits equal the dense ones at labelled positions", "[model]") {
  auto net = load_pretrain("model.safetensors");
  torch::NoGradGuard no_grad;
  auto in = test::reference_pretrain_inputs();
  auto dense = net->forward(in, true);
  auto sparse = net->forward(in, false);
  REQUIRE(sparse.mlm_count == in.mlm_labels.ne(-100).sum().item<std::int64_t>());
  test::require_close(sparse.mlm_loss, dense.mlm_loss, 1e-6, 1e-6, "sparse vs dense mlm_loss");
  // The compact form the data loader produces gives the same loss.
  auto labels = in.mlm_labels;
  const std::int64_t batch = labels.size(0), max_pred = 8;
  auto positions = torch::zeros({batch, max_pred}, torch::kLong);
  auto compact = torch::full({batch, max_pred}, -100, torch::kLong);
  for (std::int64_t b = 0; b < batch; ++b) {
    std::int64_t k = 0;
    for (std::int64_t s = 0; s < labels.size(1); ++s) {
      if (labels[b][s].item<std::int64_t>() == -100) continue;
      positions[b][k] = s;
      compact[b][k] = labels[b][s];
      ++k;
    }
  }
  auto in2 = in;
  in2.mlm_labels = torch::Tensor();
  in2.masked_positions = positions;
  in2.masked_labels = compact;
  auto packed = net->forward(in2, false);
  test::require_close(packed.mlm_loss, dense.mlm_loss, 1e-6, 1e-6, "compact-label mlm_loss");
}

TEST_CASE("BertForPreTraining gradients match HF", "[model][reference]") {
  for (const bool fused : {true, false}) {
    INFO("fused_kernels " << fused);
    auto net = load_pretrain("model.safetensors", fused);
    auto out = net->forward(test::reference_pretrain_inputs(), false);
    out.loss.backward();
    io::SafetensorsReader grads(test::shared_path("reference/tiny-pretrain/grads.safetensors"));
    std::size_t checked = 0;
    for (const auto& item : net->named_parameters()) {
      INFO(item.key());
      REQUIRE(grads.contains(item.key()));
      REQUIRE(item.value().grad().defined());
      // The tied table's sparse lookup part was added into the decoder's dense part.
      CHECK(item.value().grad().layout() == torch::kStrided);
      test::require_close(item.value().grad(), grads.load(item.key()), kGradAtol, kGradRtol, item.key());
      ++checked;
    }
    REQUIRE(checked == grads.entries().size());
  }
}

// What BertForPreTraining relies on (embeddings.h): with a dense use of the
// table after it, a sparse lookup gradient (repeated ids, the padding id)
// sums to the dense lookup's gradient, and .grad stays dense.
TEST_CASE("the word lookup's sparse gradient added into a dense one equals the dense lookup's", "[model]") {
  auto config = model::BertConfig::preset("tiny");
  config.vocab_size = 37;
  torch::manual_seed(8);
  model::BertEmbeddings embeddings(config);
  embeddings->eval();  // no dropout: both runs see the same values
  auto ids = torch::randint(0, 12, {3, 10}, torch::kLong);  // repeats
  ids[1][4] = config.pad_token_id;
  const auto types = torch::zeros_like(ids);
  const auto w = torch::randn({3, 10, config.hidden_size});
  const auto u = torch::randn({config.vocab_size, config.hidden_size});
  auto gradient = [&](bool sparse) {
    auto& table = embeddings->word_embeddings->weight;
    table.mutable_grad() = torch::Tensor();
    embeddings->sparse_word_gradient = sparse;
    ((embeddings->forward(ids, types) * w).sum() + (table * u).sum()).backward();
    embeddings->sparse_word_gradient = false;
    return table.grad().clone();
  };
  const auto dense = gradient(false);
  const auto sparse = gradient(true);
  CHECK(sparse.layout() == torch::kStrided);
  test::require_close(sparse, dense, 1e-6, 1e-6, "word_embeddings.weight gradient");
  CHECK(sparse[config.pad_token_id].equal(u[config.pad_token_id]));  // no lookup part for padding
}

namespace {

model::BertForSequenceClassification load_cls() {
  const auto dir = test::shared_path("reference/tiny-cls");
  auto config = io::load_model_config(dir);
  REQUIRE(config.num_labels == 3);
  REQUIRE(model::architecture_of(config) == model::Architecture::SequenceClassification);
  model::BertForSequenceClassification net(config);
  auto report = io::load_weights(*net, dir + "/model.safetensors");
  INFO(report.summary());
  REQUIRE(report.missing.empty());
  net->eval();
  return net;
}

}  // namespace

TEST_CASE("BertForSequenceClassification matches HF logits, loss and gradients", "[model][reference]") {
  auto net = load_cls();
  auto batch = io::read_batch_json(test::shared_path("reference/tiny-cls/input.json"));
  auto out = net->forward(batch.at("input_ids"), batch.at("token_type_ids"), batch.at("attention_mask"),
                          batch.at("labels"));
  io::SafetensorsReader expected(test::shared_path("reference/tiny-cls/expected.safetensors"));
  test::require_close(out.logits, expected.load("logits"), kOutAtol, kOutRtol, "logits");
  test::require_close(out.loss.reshape({1}), expected.load("loss").reshape({1}), kOutAtol, kOutRtol, "loss");
  out.loss.backward();
  io::SafetensorsReader grads(test::shared_path("reference/tiny-cls/grads.safetensors"));
  for (const auto& item : net->named_parameters()) {
    INFO(item.key());
    REQUIRE(grads.contains(item.key()));
    test::require_close(item.value().grad(), grads.load(item.key()), kGradAtol, kGradRtol, item.key());
  }
}

TEST_CASE("a pretraining checkpoint loads into a classifier: encoder + pooler, fresh classifier", "[model][io]") {
  const auto dir = test::shared_path("reference/tiny-pretrain");
  auto config = io::load_model_config(dir);
  config.num_labels = 3;
  model::BertForSequenceClassification net(config);
  auto report = io::load_weights(*net, dir + "/model.safetensors");
  REQUIRE(report.missing == std::vector<std::string>{"classifier.bias", "classifier.weight"});
  REQUIRE_FALSE(report.unexpected.empty());
  for (const auto& name : report.unexpected) REQUIRE(name.rfind("cls.", 0) == 0);
}
