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
#include "io/model_forward.h"
#include "io/model_init.h"
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

struct InitFlags {
  io::ModelInitOptions options;
  CommonOptions common;
};

void run_init(const InitFlags& f) {
  apply_common_options(f.common);
  const auto& o = f.options;
  const auto params = io::init_model_dir(o);
  std::printf("wrote %s: %s, preset %s, %.2fM parameters, seed %lld\n", o.out.c_str(),
              model::architecture_name(model::parse_architecture(o.arch)).c_str(), o.preset.c_str(), params / 1e6,
              static_cast<long long>(o.seed));
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

struct ForwardOptions {
  std::string model_dir, input, output;
  CommonOptions common;
};

void run_forward(const ForwardOptions& o) {
  apply_common_options(o.common);
  const auto outputs = io::forward_model_dir(o.model_dir, o.input);
  io::save_safetensors(o.output, outputs);
  for (const auto& [name, t] : outputs) std::printf("%-24s %s\n", name.c_str(), c10::str(t.sizes()).c_str());
  std::printf("wrote %s\n", o.output.c_str());
}

}  // namespace

void add_model_commands(CLI::App& app) {
  auto* model = app.add_subcommand("model", "Create, inspect and run model directories (HF layout)");
  model->require_subcommand(1);

  auto init = std::make_shared<InitFlags>();
  auto* cmd_init = model->add_subcommand("init", "Write a freshly initialised model directory");
  cmd_init->add_option("--preset", init->options.preset, "tiny | mini | small | medium | base | large")
      ->check(CLI::IsMember(model::BertConfig::preset_names()));
  cmd_init->add_option("--out", init->options.out, "Output model directory")->required();
  cmd_init->add_option("--arch", init->options.arch,
                       "pretraining | classification | token_classification | question_answering | encoder")
      ->check(CLI::IsMember({"pretraining", "classification", "token_classification", "question_answering", "encoder"}));
  cmd_init->add_option("--tokenizer", init->options.tokenizer, "Tokenizer directory: sets vocab_size and is copied in");
  cmd_init->add_option("--vocab-size", init->options.vocab_size, "Vocabulary size (default: the tokenizer's, else 30522)");
  cmd_init->add_option("--num-labels", init->options.num_labels, "Classes (or tags), for --arch classification | token_classification");
  cmd_init->add_option("--seed", init->options.seed, "Seed of the initialisation");
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
  cmd_forward->add_option("--input", fwd->input,
                          "Batch as JSON (input_ids, token_type_ids, attention_mask; labels, masked_lm_labels, "
                          "next_sentence_label, start_positions, end_positions give the loss)")
      ->required();
  cmd_forward->add_option("--output", fwd->output, "Output .safetensors")->required();
  add_common_options(*cmd_forward, fwd->common);
  cmd_forward->callback([fwd] { run_forward(*fwd); });
}

}  // namespace bf::cli
