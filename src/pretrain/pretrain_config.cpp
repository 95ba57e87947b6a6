#include "pretrain/pretrain_config.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/error.h"

namespace bf::pretrain {
namespace fs = std::filesystem;

data::DataBuildConfig read_data_build_config(const std::string& file, const std::vector<std::string>& overrides) {
  return data::read_data_build_config(file, overrides, config_keys<PretrainConfig>());
}

PretrainConfig load_pretrain_config(const std::string& file, const std::vector<std::string>& overrides) {
  auto config = read_config<PretrainConfig>(file, overrides);
  std::vector<std::string> problems;
  if (config.data.max_seq_length > config.model.resolve(30522, 0).max_position_embeddings)
    problems.push_back(file + ": data.max_seq_length (" + std::to_string(config.data.max_seq_length) +
                       ") exceeds the model's max_position_embeddings");
  if (config.eval.probe.enabled() &&
      config.eval.probe.max_seq_length > config.model.resolve(30522, 0).max_position_embeddings)
    problems.push_back(file + ": eval.probe.max_seq_length (" + std::to_string(config.eval.probe.max_seq_length) +
                       ") exceeds the model's max_position_embeddings");
  if (!problems.empty()) {
    std::string message = "invalid config " + file + ":";
    for (const auto& p : problems) message += "\n  " + p;
    bf::fail(message);
  }
  return config;
}

std::vector<std::string> check_pretrain_paths(const PretrainConfig& config) {
  std::vector<std::string> problems;
  auto must_exist = [&](const std::string& key, const std::string& path) {
    if (path.empty()) return;
    if (!fs::exists(path)) problems.push_back(key + ": '" + path + "' does not exist (resolved to " +
                                              fs::absolute(path).lexically_normal().string() + ")");
  };
  must_exist("tokenizer", config.tokenizer);
  must_exist("model.init_from", config.model.init_from);
  must_exist("eval.probe.train", config.eval.probe.train);
  must_exist("eval.probe.dev", config.eval.probe.dev);
  const bool shards_built = fs::exists(fs::path(config.data.output) / "manifest.json");
  if (!shards_built) {
    if (config.data.inputs.empty())
      problems.push_back("data.output: '" + config.data.output + "' holds no built shards and data.inputs is empty");
    for (std::size_t i = 0; i < config.data.inputs.size(); ++i) {
      const auto& path = config.data.inputs[i].path;
      if (path.find_first_of("*?[") == std::string::npos) must_exist("data.inputs[" + std::to_string(i) + "]", path);
    }
  }
  // The output directory (or its closest existing parent) must be writable.
  fs::path out = fs::absolute(config.run.output_dir);
  while (!out.empty() && !fs::exists(out) && out != out.parent_path()) out = out.parent_path();
  if (!out.empty() && ::access(out.c_str(), W_OK) != 0)
    problems.push_back("run.output_dir: '" + config.run.output_dir + "' is not writable (" + out.string() + ")");
  return problems;
}

}  // namespace bf::pretrain
