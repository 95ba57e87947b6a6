// 4 micro-batches of 8, accumulated with the step's masked-token total as the
// MLM divisor, give the gradients of one batch of 32.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include "../support/tensor_match.h"
#include "model/any_bert.h"
#include "model/bert_for_pretraining.h"

using namespace bf;

TEST_CASE("accumulating 4 x 8 equals one batch of 32", "[train][accumulation]") {
  auto config = model::BertConfig::preset("tiny");
  config.vocab_size = 500;
  config.hidden_size = 32;
  config.num_attention_heads = 2;
  config.intermediate_size = 64;
  config.hidden_dropout_prob = 0.0;
  config.attention_probs_dropout_prob = 0.0;
  torch::manual_seed(11);
  auto net = model::make_model(config, model::Architecture::PreTraining);
  auto* bert = net->as<model::BertForPreTraining>();

  const std::int64_t batch = 32, seq = 24, preds = 5;
  model::PreTrainingInputs all;
  all.input_ids = torch::randint(5, config.vocab_size, {batch, seq}, torch::kLong);
  all.token_type_ids = torch::zeros({batch, seq}, torch::kLong);
  all.attention_mask = torch::ones({batch, seq}, torch::kLong);
  all.masked_positions = torch::randint(1, seq, {batch, preds}, torch::kLong);
  all.masked_labels = torch::randint(5, config.vocab_size, {batch, preds}, torch::kLong);
  // An uneven number of predictions per sequence: a per-micro-batch mean would differ.
  all.masked_labels.index_put_({torch::indexing::Slice(0, 8), torch::indexing::Slice(2, preds)}, -100);
  all.next_sentence_label = torch::randint(0, 2, {batch}, torch::kLong);

  auto one = bert->forward(all);
  one.loss.backward();
  std::map<std::string, torch::Tensor> reference;
  for (const auto& item : net->named_parameters()) reference[item.key()] = item.value().grad().clone();
  for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();

  const double masked = static_cast<double>(all.masked_labels.ne(-100).sum().item<std::int64_t>());
  double accumulated_loss = 0;
  for (std::int64_t i = 0; i < 4; ++i) {
    auto part = [&](const torch::Tensor& t) { return t.narrow(0, i * 8, 8); };
    model::PreTrainingInputs micro;
    micro.input_ids = part(all.input_ids);
    micro.token_type_ids = part(all.token_type_ids);
    micro.attention_mask = part(all.attention_mask);
    micro.masked_positions = part(all.masked_positions);
    micro.masked_labels = part(all.masked_labels);
    micro.next_sentence_label = part(all.next_sentence_label);
    micro.mlm_denominator = masked;
    micro.nsp_denominator = batch;
    auto out = bert->forward(micro);
    out.loss.backward();
    accumulated_loss += out.loss.item<double>();
  }
  REQUIRE(std::abs(accumulated_loss - one.loss.item<double>()) < 1e-5);
  for (const auto& item : net->named_parameters())
    test::require_close(item.value().grad(), reference.at(item.key()), 1e-6, 1e-4, item.key());
}
