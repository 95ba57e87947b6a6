#include "pretrain/pretrain_inputs.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>

#include "data/corpus_builder.h"
#include "data/manifest.h"
#include "finetune/probe/probe_data.h"
#include "io/hf_model.h"
#include "util/error.h"

namespace bf::pretrain {
namespace fs = std::filesystem;

void ensure_pretraining_data(const PretrainConfig& config, const tok::Tokenizer& tokenizer) {
  if (config.data.inputs.empty()) {
    if (!fs::exists(fs::path(config.data.output) / "manifest.json"))
      bf::fail("data.output: '" + config.data.output + "' holds no built shards and data.inputs is empty");
    return;
  }
  data::BuildOptions options;
  options.tokenizer_dir = config.tokenizer;
  const auto result = data::build_corpus(config.data, tokenizer, options);
  if (!result.skipped)
    spdlog::info("data: built {} ({:.1f} MB/s)", config.data.output, result.mb_per_second());
}

std::vector<std::string> check_pretrain_inputs(const PretrainConfig& config, const tok::Tokenizer& tokenizer,
                                               std::optional<ft::ProbeData>* probe) {
  std::vector<std::string> problems;
  if (fs::exists(fs::path(config.data.output) / data::kManifestFile)) {
    std::optional<data::Manifest> built;
    try {
      built = data::Manifest::load(config.data.output);
    } catch (const bf::Error&) {
      // A damaged build: rebuilt from data.inputs, or reported by the loader.
    }
    const auto ours = data::TokenizerInfo::of(tokenizer, config.tokenizer);
    if (built && (built->tokenizer.hash != ours.hash || built->tokenizer.vocab_size != ours.vocab_size)) {
      const auto& t = built->tokenizer;
      problems.push_back(fmt::format(
          "data.output: the shards in '{}' were built with another tokenizer ({}, vocab {}, hash {}{}) than "
          "tokenizer: '{}' ({}, vocab {}, hash {}); point data.output at a new directory, or rebuild it with "
          "`bertforge data build --force` using this tokenizer",
          config.data.output, t.type, t.vocab_size, t.hash, t.dir.empty() ? "" : ", from " + t.dir, config.tokenizer,
          ours.type, ours.vocab_size, ours.hash));
    }
  }
  if (!config.model.init_from.empty()) {
    try {
      const auto diff = model::shape_differences(
          io::load_model_config(config.model.init_from),
          config.model.resolve(tokenizer.vocab_size(), tokenizer.special_ids().pad));
      if (!diff.empty())
        problems.push_back("model.init_from: '" + config.model.init_from +
                           "' holds a model of another size than this config's:" + diff);
    } catch (const bf::Error& e) {
      problems.push_back(std::string("model.init_from: ") + e.what());
    }
  }
  if (config.eval.probe.enabled()) {
    try {
      auto data = ft::load_probe_data(config.eval.probe, tokenizer);
      if (probe != nullptr) *probe = std::move(data);
    } catch (const bf::Error& e) {
      problems.push_back(std::string("eval.probe: ") + e.what());
    }
  }
  return problems;
}

}  // namespace bf::pretrain
