// Frozen linears (model/frozen_linear.h): bf16 against autocast's bf16 (the
// same kernel on the same machine, so bit for bit), dynamic int8
// (model/quantized_linear.h) against fp32 on the same weights and inputs.
// Tolerances are about int8's rounding, not a CPU's instructions: oneDNN
// computes the integer products exactly (32-bit sums) on every instruction
// set, so only the float steps around them (the input's scale, the output's
// rescale) may differ by an ulp or so between machines ("Portability of
// tests", docs/development.md).
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "../support/reference_model_dirs.h"
#include "../support/shared_data.h"
#include "io/hf_model.h"
#include "model/bert_for_sequence_classification.h"
#include "model/frozen_linear.h"
#include "model/precision.h"
#include "model/quantized_linear.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

using namespace bf;

namespace {

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::cosine_similarity(a.flatten(), b.flatten(), 0).item<double>();
}

struct Batch {
  torch::Tensor input_ids, attention_mask;
};

// The first `rows` sentences of SST-2's dev set in the reference models'
// 1,000-token vocabulary, [CLS] ... [SEP], padded to the longest (at most
// the models' 64 positions).
Batch sst2_dev_batch(std::int64_t rows) {
  const auto dir = test::temp_dir("quantized-vocab");
  std::ofstream(dir + "/vocab.txt", std::ios::binary) << test::reference_vocab_text();
  const auto tokenizer = tok::load_tokenizer(dir);
  const auto special = tokenizer->special_ids();
  std::vector<std::string> texts;
  const auto lines = test::file_lines(test::shared_path("data/sst2/dev.tsv"));
  for (std::size_t i = 1; i < lines.size() && static_cast<std::int64_t>(texts.size()) < rows; ++i)
    texts.push_back(lines[i].substr(0, lines[i].find('\t')));
  const auto encodings = tokenizer->encode_batch(texts, 1);
  const std::int64_t width = 64;
  Batch b{torch::full({rows, width}, special.pad, torch::kLong), torch::zeros({rows, width}, torch::kLong)};
  std::int64_t longest = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    std::vector<std::int64_t> ids{special.cls};
    for (auto id : encodings[static_cast<std::size_t>(r)].ids)
      if (static_cast<std::int64_t>(ids.size()) < width - 1) ids.push_back(id);
    ids.push_back(special.sep);
    const auto n = static_cast<std::int64_t>(ids.size());
    b.input_ids[r].narrow(0, 0, n).copy_(torch::tensor(ids));
    b.attention_mask[r].narrow(0, 0, n).fill_(1);
    longest = std::max(longest, n);
  }
  b.input_ids = b.input_ids.narrow(1, 0, longest).contiguous();
  b.attention_mask = b.attention_mask.narrow(1, 0, longest).contiguous();
  return b;
}

model::BertForSequenceClassification reference_classifier() {
  const auto dir = test::shared_path("reference/tiny-cls");
  auto config = io::load_model_config(dir);
  model::BertForSequenceClassification net(config);
  REQUIRE(io::load_weights(*net, dir + "/model.safetensors").missing.empty());
  net->eval();
  return net;
}

}  // namespace

TEST_CASE("an int8 linear agrees with fp32 on a [64, 768] x [768, 768] product", "[model][quantized]") {
  torch::manual_seed(3);
  const auto x = torch::randn({64, 768});
  const auto w = torch::randn({768, 768}) * 0.02;
  const auto bias = torch::randn({768}) * 0.02;
  const auto expected = torch::linear(x, w, bias);
  const model::Int8Linear int8(w, bias);
  const auto y = int8.forward(x);
  REQUIRE(y.sizes() == expected.sizes());
  REQUIRE(y.scalar_type() == torch::kFloat);
  // 8-bit inputs and weights: about 1.5 % relative error here.
  CHECK(cosine(y, expected) > 0.9995);
  CHECK(((y - expected).norm() / expected.norm()).item<double>() < 0.03);
  // Any leading shape, as torch::linear.
  CHECK(int8.forward(x.view({4, 16, 768})).view({64, 768}).equal(y));
  // Inference only: an input that needs a gradient would get none.
  CHECK_THROWS_AS(int8.forward(x.clone().requires_grad_(true)), bf::Error);
}

TEST_CASE("int8 encoder linears keep the reference classifier's logits and clear labels on SST-2 dev rows",
          "[model][quantized]") {
  auto net = reference_classifier();
  const auto batch = sst2_dev_batch(256);
  torch::NoGradGuard no_grad;
  const auto fp32 = net->forward(batch.input_ids, {}, batch.attention_mask).logits;
  const auto fp32_hidden = net->bert->forward(batch.input_ids, {}, batch.attention_mask).last_hidden_state;
  std::vector<torch::Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.clone());

  model::freeze_linears(*net->bert, model::FrozenPrecision::Int8);
  const auto int8 = net->forward(batch.input_ids, {}, batch.attention_mask).logits;
  const auto int8_hidden = net->bert->forward(batch.input_ids, {}, batch.attention_mask).last_hidden_state;

  // The fp32 weights stay as they were (saved, loaded, trained as before).
  const auto after = net->parameters();
  for (std::size_t i = 0; i < before.size(); ++i) REQUIRE(after[i].equal(before[i]));

  // Every token's last hidden state (padding included), where the int8
  // error is not hidden behind the classifier's bias.
  const auto per_token = torch::cosine_similarity(int8_hidden, fp32_hidden, 2);
  INFO("hidden state cosine per token: min " << per_token.min().item<double>());
  CHECK(per_token.min().item<double>() > 0.99);
  const auto per_row = torch::cosine_similarity(int8, fp32, 1);
  INFO("cosine per row: min " << per_row.min().item<double>() << ", mean " << per_row.mean().item<double>());
  CHECK(cosine(int8, fp32) > 0.99);
  CHECK(per_row.min().item<double>() > 0.99);
  // Labels: equal wherever fp32's top two logits are clearly apart (a gap
  // 4x the largest change int8 made to any logit of the batch).
  const auto top = std::get<0>(fp32.topk(2, 1));
  const auto gap = top.select(1, 0) - top.select(1, 1);
  const double largest_change = (int8 - fp32).abs().max().item<double>();
  const auto clear = gap > 4 * largest_change;
  const auto clear_rows = clear.sum().item().toLong();
  INFO("largest logit change " << largest_change << ", " << clear_rows << " of 256 rows clear");
  CHECK(clear_rows >= 128);
  CHECK(int8.argmax(1).masked_select(clear).equal(fp32.argmax(1).masked_select(clear)));
}

TEST_CASE("int8 linears refuse a training forward", "[model][quantized]") {
  auto net = reference_classifier();
  model::freeze_linears(*net->bert, model::FrozenPrecision::Int8);
  net->train();
  const auto batch = sst2_dev_batch(4);
  CHECK_THROWS_AS(net->forward(batch.input_ids, {}, batch.attention_mask), bf::Error);
}

TEST_CASE("frozen bf16 linears give autocast's bf16 forward bit for bit, the fp32 weights untouched",
          "[model][frozen]") {
  auto net = reference_classifier();
  const auto batch = sst2_dev_batch(64);
  torch::NoGradGuard no_grad;
  auto forward = [&] {
    model::AutocastGuard bf16("bf16", torch::kCPU);
    return std::make_pair(net->forward(batch.input_ids, {}, batch.attention_mask).logits,
                          net->bert->forward(batch.input_ids, {}, batch.attention_mask).last_hidden_state);
  };
  const auto [autocast_logits, autocast_hidden] = forward();
  std::vector<torch::Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.clone());

  model::freeze_linears(*net->bert, model::FrozenPrecision::Bf16);
  const auto [frozen_logits, frozen_hidden] = forward();
  CHECK(frozen_hidden.equal(autocast_hidden));
  CHECK(frozen_logits.equal(autocast_logits));
  const auto after = net->parameters();
  for (std::size_t i = 0; i < before.size(); ++i) REQUIRE(after[i].equal(before[i]));

  const model::Bf16Linear linear(torch::randn({8, 4}), torch::randn({8}));
  CHECK(linear.forward(torch::randn({3, 4})).scalar_type() == torch::kBFloat16);
  CHECK_THROWS_AS(linear.forward(torch::randn({3, 4}).requires_grad_(true)), bf::Error);
}

TEST_CASE("bf16 counts as fast only where oneDNN is not capped below bf16", "[model][precision]") {
  const char* before = std::getenv("ONEDNN_MAX_CPU_ISA");
  const std::string saved = before != nullptr ? before : "";
  ::unsetenv("ONEDNN_MAX_CPU_ISA");
  const bool native = model::cpu_has_fast_bf16();
  ::setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  CHECK_FALSE(model::cpu_has_fast_bf16());
  ::setenv("ONEDNN_MAX_CPU_ISA", "avx512_core_vnni", 1);
  CHECK_FALSE(model::cpu_has_fast_bf16());
  ::setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16", 1);
  CHECK(model::cpu_has_fast_bf16() == native);
  ::setenv("ONEDNN_MAX_CPU_ISA", "ALL", 1);
  CHECK(model::cpu_has_fast_bf16() == native);
  if (before != nullptr) {
    ::setenv("ONEDNN_MAX_CPU_ISA", saved.c_str(), 1);
  } else {
    ::unsetenv("ONEDNN_MAX_CPU_ISA");
  }
}
