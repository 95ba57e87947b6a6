// Three AdamW steps on the reference batch reproduce HF's losses, gradient
// norms and final weights (../shared/reference/tiny-pretrain/train_*).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "../support/shared_data.h"
#include "../support/tensor_match.h"
#include "io/batch_json.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/bert_for_pretraining.h"
#include "util/fs.h"

using namespace bf;

TEST_CASE("three AdamW steps match HF's losses, grad norms and weights", "[model][reference][train]") {
  const auto dir = test::shared_path("reference/tiny-pretrain");
  model::BertForPreTraining net(io::load_model_config(dir));
  REQUIRE(io::load_weights(*net, dir + "/model.safetensors").missing.empty());
  net->eval();  // the reference trains with dropout off

  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : net->named_parameters()) {
    const auto& name = item.key();
    const bool exempt = name.find("LayerNorm") != std::string::npos || name.size() >= 5 && name.substr(name.size() - 5) == ".bias";
    (exempt ? no_decay : decay).push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.01)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.0)));
  torch::optim::AdamW optimizer(groups);

  auto batch = io::read_batch_json(dir + "/input.json");
  model::PreTrainingInputs in;
  in.input_ids = batch.at("input_ids");
  in.token_type_ids = batch.at("token_type_ids");
  in.attention_mask = batch.at("attention_mask");
  in.mlm_labels = batch.at("masked_lm_labels");
  in.next_sentence_label = batch.at("next_sentence_label");

  const auto expected = nlohmann::json::parse(read_file(dir + "/train_expected.json"));
  for (const auto& step : expected["steps"]) {
    INFO("step " << step["step"].get<int>());
    optimizer.zero_grad();
    auto out = net->forward(in);
    out.loss.backward();
    const double norm = torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    const double expect_loss = step["total_loss"].get<double>();
    const double expect_norm = step["grad_norm_before_clip"].get<double>();
    REQUIRE(std::abs(out.loss.item<double>() - expect_loss) <= 1e-5 + 1e-4 * std::abs(expect_loss));
    REQUIRE(std::abs(out.mlm_loss.item<double>() - step["mlm_loss"].get<double>()) <= 1e-5 + 1e-4 * 7.0);
    REQUIRE(std::abs(norm - expect_norm) <= 1e-5 + 1e-3 * std::abs(expect_norm));
    optimizer.step();
  }
  io::SafetensorsReader after(dir + "/train_after.safetensors");
  for (const auto& item : net->named_parameters()) {
    INFO(item.key());
    REQUIRE(after.contains(item.key()));
    test::require_close(item.value(), after.load(item.key()), 1e-6, 1e-4, item.key());
  }
}
