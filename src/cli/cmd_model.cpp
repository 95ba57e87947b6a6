// bertforge model init | inspect | forward
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"
#include "io/batch_json.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/any_bert.h"
#include "model/bert_for_pretraining.h"
#include "model/bert_for_sequence_classification.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace bf::cli {
namespace {

namespace fs = std::filesystem;
using model::Architecture;

struct InitOptions {
  std::string preset = "mini";
  std::string out;
  std::string arch = "pretraining";
  std::string tokenizer;
  std::int64_t vocab_size = 0;
  std::int64_t num_labels = 0;
  std::int64_t seed = 42;
  CommonOptions common;
};

void run_init(const InitOptions& o) {
  apply_common_options(o.common);
  auto config = model::BertConfig::preset(o.preset);
  std::unique_ptr<tok::Tokenizer> tokenizer;
  if (!o.tokenizer.empty()) {
    tokenizer = tok::load_tokenizer(o.tokenizer);
    // The tokenizer is the one place the vocabulary size lives.
    config.vocab_size = tokenizer->vocab_size();
    config.pad_token_id = tokenizer->special_ids().pad;
  }
  if (o.vocab_size > 0) {
    if (tokenizer && o.vocab_size != config.vocab_size)
      bf::fail("--vocab-size " + std::to_string(o.vocab_size) + " contradicts the tokenizer's vocab size " +
               std::to_string(config.vocab_size));
    config.vocab_size = o.vocab_size;
  }
  if (o.num_labels > 0) config.num_labels = o.num_labels;
  const auto arch = model::parse_architecture(o.arch);
  config.architectures = {model::architecture_name(arch)};
  config.validate("--preset " + o.preset);
  torch::manual_seed(static_cast<std::uint64_t>(o.seed));
  auto net = model::make_model(config, arch);
  io::save_model_dir(o.out, *net, config, tokenizer.get());
  std::int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();
  std::printf("wrote %s: %s, preset %s, %.2fM parameters, seed %lld\n", o.out.c_str(),
              model::architecture_name(arch).c_str(), o.preset.c_str(), params / 1e6, static_cast<long long>(o.seed));
}

std::string parameter_group(const std::string& name) {
  for (const char* group : {"bert.embeddings", "bert.encoder", "bert.pooler", "cls.predictions", "cls.seq_relationship",
                            "classifier", "embeddings", "encoder", "pooler"})
    if (name.rfind(group, 0) == 0) return group;
  return "other";
}

void run_inspect(const std::string& dir) {
  const auto config = io::load_model_config(dir);
  std::printf("model directory: %s\n", dir.c_str());
  std::printf("architecture: %s\n", model::architecture_name(model::architecture_of(config)).c_str());
  std::printf("config.json:\n%s\n", config.to_json().dump(2).c_str());
  const auto weights = io::find_weights_file(dir);
  std::printf("\nweights: %s\n", weights.c_str());
  if (weights.size() >= 12 && weights.substr(weights.size() - 12) == ".safetensors") {
    io::SafetensorsReader reader(weights);
    std::map<std::string, std::int64_t> groups;
    std::int64_t total = 0;
    std::printf("%-64s %-5s %s\n", "tensor", "dtype", "shape");
    for (const auto& e : reader.entries()) {
      std::int64_t n = 1;
      std::string shape;
      for (auto d : e.shape) {
        n *= d;
        shape += (shape.empty() ? "" : ", ") + std::to_string(d);
      }
      groups[parameter_group(e.name)] += n;
      total += n;
      std::printf("%-64s %-5s [%s]\n", e.name.c_str(), e.dtype.c_str(), shape.c_str());
    }
    std::printf("\nparameters by group:\n");
    for (const auto& [group, n] : groups) std::printf("  %-24s %12lld\n", group.c_str(), static_cast<long long>(n));
    std::printf("  %-24s %12lld (%.2fM)\n", "total", static_cast<long long>(total), total / 1e6);
  }
}

torch::Tensor optional_key(const std::map<std::string, torch::Tensor>& batch, const std::string& key) {
  auto it = batch.find(key);
  return it == batch.end() ? torch::Tensor() : it->second;
}

torch::Tensor as_f64_scalar(const torch::Tensor& loss) { return loss.detach().to(torch::kFloat64).reshape({1}); }

struct ForwardOptions {
  std::string model_dir, input, output;
  CommonOptions common;
};

void run_forward(const ForwardOptions& o) {
  apply_common_options(o.common);
  auto config = io::load_model_config(o.model_dir);
  const auto arch = model::architecture_of(config);
  auto net = model::make_model(config, arch);
  const auto report = io::load_weights(*net, io::find_weights_file(o.model_dir));
  if (!report.missing.empty()) bf::fail(o.model_dir + ": weights incomplete: " + report.summary());
  spdlog::info("{}", report.summary());
  net->eval();
  const auto batch = io::read_batch_json(o.input);
  auto input_ids = optional_key(batch, "input_ids");
  if (!input_ids.defined()) bf::fail(o.input + ": missing key 'input_ids'");
  auto token_type_ids = optional_key(batch, "token_type_ids");
  auto attention_mask = optional_key(batch, "attention_mask");

  std::vector<std::pair<std::string, torch::Tensor>> outputs;
  torch::NoGradGuard no_grad;
  if (arch == Architecture::PreTraining) {
    model::PreTrainingInputs in;
    in.input_ids = input_ids;
    in.token_type_ids = token_type_ids;
    in.attention_mask = attention_mask;
    in.mlm_labels = optional_key(batch, "masked_lm_labels");
    if (!in.mlm_labels.defined()) in.mlm_labels = optional_key(batch, "labels");
    in.next_sentence_label = optional_key(batch, "next_sentence_label");
    auto out = net->as<model::BertForPreTraining>()->forward(in, /*all_position_logits=*/true);
    outputs = {{"last_hidden_state", out.last_hidden_state},
               {"pooler_output", out.pooler_output},
               {"prediction_logits", out.prediction_logits},
               {"seq_relationship_logits", out.seq_relationship_logits}};
    if (out.mlm_loss.defined()) outputs.emplace_back("mlm_loss", as_f64_scalar(out.mlm_loss));
    if (out.nsp_loss.defined()) outputs.emplace_back("nsp_loss", as_f64_scalar(out.nsp_loss));
    if (out.mlm_loss.defined() && out.nsp_loss.defined()) outputs.emplace_back("total_loss", as_f64_scalar(out.loss));
  } else if (arch == Architecture::SequenceClassification) {
    auto* classifier = net->as<model::BertForSequenceClassification>();
    auto out = classifier->forward(input_ids, token_type_ids, attention_mask, optional_key(batch, "labels"));
    auto encoded = classifier->bert->forward(input_ids, token_type_ids, attention_mask);
    outputs = {{"last_hidden_state", encoded.last_hidden_state},
               {"pooler_output", encoded.pooler_output},
               {"logits", out.logits}};
    if (out.loss.defined()) outputs.emplace_back("loss", as_f64_scalar(out.loss));
  } else {
    auto out = net->as<model::BertModel>()->forward(input_ids, token_type_ids, attention_mask);
    outputs = {{"last_hidden_state", out.last_hidden_state}, {"pooler_output", out.pooler_output}};
  }
  io::save_safetensors(o.output, outputs);
  for (const auto& [name, t] : outputs) std::printf("%-24s %s\n", name.c_str(), c10::str(t.sizes()).c_str());
  std::printf("wrote %s\n", o.output.c_str());
}

}  // namespace

void add_model_commands(CLI::App& app) {
  auto* model = app.add_subcommand("model", "Create, inspect and run model directories (HF layout)");
  model->require_subcommand(1);

  auto init = std::make_shared<InitOptions>();
  auto* cmd_init = model->add_subcommand("init", "Write a freshly initialised model directory");
  cmd_init->add_option("--preset", init->preset, "tiny | mini | small | medium | base | large")
      ->check(CLI::IsMember(model::BertConfig::preset_names()));
  cmd_init->add_option("--out", init->out, "Output model directory")->required();
  cmd_init->add_option("--arch", init->arch, "pretraining | classification | encoder")
      ->check(CLI::IsMember({"pretraining", "classification", "encoder"}));
  cmd_init->add_option("--tokenizer", init->tokenizer, "Tokenizer directory: sets vocab_size and is copied in");
  cmd_init->add_option("--vocab-size", init->vocab_size, "Vocabulary size (default: the tokenizer's, else 30522)");
  cmd_init->add_option("--num-labels", init->num_labels, "Classes, for --arch classification");
  cmd_init->add_option("--seed", init->seed, "Seed of the initialisation");
  add_common_options(*cmd_init, init->common);
  cmd_init->callback([init] { run_init(*init); });

  auto inspect_dir = std::make_shared<std::string>();
  auto* cmd_inspect = model->add_subcommand("inspect", "Print a model's config, parameter counts and tensors");
  cmd_inspect->add_option("dir", *inspect_dir, "Model directory")->required();
  cmd_inspect->callback([inspect_dir] { run_inspect(*inspect_dir); });

  auto fwd = std::make_shared<ForwardOptions>();
  auto* cmd_forward =
      model->add_subcommand("forward", "Run a model in eval mode on a JSON batch and write every output (parity tool)");
  cmd_forward->add_option("--model", fwd->model_dir, "Model directory")->required();
  cmd_forward->add_option("--input", fwd->input, "Batch as JSON (input_ids, token_type_ids, attention_mask, labels)")
      ->required();
  cmd_forward->add_option("--output", fwd->output, "Output .safetensors")->required();
  add_common_options(*cmd_forward, fwd->common);
  cmd_forward->callback([fwd] { run_forward(*fwd); });
}

}  // namespace bf::cli
