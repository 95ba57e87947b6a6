#include "finetune/finetune_config.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "finetune/tasks.h"
#include "train/checkpoint.h"
#include "util/error.h"

namespace bf::ft {
namespace fs = std::filesystem;

const EnumNames<OnBadRow>& on_bad_row_names() {
  static const EnumNames<OnBadRow> names{{{OnBadRow::Error, "error"}, {OnBadRow::Skip, "skip"}}};
  return names;
}

const EnumNames<tagging::TagScheme>& tag_scheme_names() {
  using tagging::TagScheme;
  static const EnumNames<TagScheme> names{
      {{TagScheme::Iob2, "iob2"}, {TagScheme::Iob1, "iob1"}, {TagScheme::Bioes, "bioes"}, {TagScheme::Bmes, "bmes"}}};
  return names;
}

const EnumNames<qa::QaMetric>& qa_metric_names() {
  static const EnumNames<qa::QaMetric> names{
      {{qa::QaMetric::Auto, "auto"}, {qa::QaMetric::Squad, "squad"}, {qa::QaMetric::Cmrc, "cmrc"}}};
  return names;
}

classify::ReadOptions FinetuneDataSection::read_options() const {
  classify::ReadOptions o;
  o.format = format;
  o.columns.text = text_column;
  o.columns.text_pair = text_pair_column;
  o.columns.label = label_column;
  o.columns.names = columns;
  o.columns.has_header = has_header && columns.empty();
  o.task = task;
  o.label_separator = label_separator;
  o.max_seq_length = max_seq_length;
  o.skip_bad_rows = on_bad_row == OnBadRow::Skip;
  return o;
}

std::string FinetuneConfig::best_metric() const {
  if (!eval.metric.empty()) return eval.metric;
  return task_metrics(task()).front();
}

FinetuneConfig load_finetune_config(const std::string& file, const std::vector<std::string>& overrides) {
  auto config = read_config<FinetuneConfig>(file, overrides);
  std::vector<std::string> problems;
  const auto task = config.task();
  const auto metric = config.best_metric();
  const auto& reported = task_metrics(task);
  if (metric != "loss" && std::find(reported.begin(), reported.end(), metric) == reported.end())
    problems.push_back("eval.metric: '" + metric + "' is not reported for task " + task_name(task));
  if (config.data.class_weights != "none" && task != TaskType::SingleLabel)
    problems.push_back("data.class_weights: only for single_label tasks");
  try {
    config.model.head.validate(config.model.arch.resolve(30522, 0));
  } catch (const bf::Error& e) {
    if (config.model.arch.init_from.empty()) problems.push_back(std::string("model.") + e.what());
  }
  if (!problems.empty()) {
    std::string message = "invalid config " + file + ":";
    for (const auto& p : problems) message += "\n  " + p;
    bf::fail(message);
  }
  return config;
}

bool is_finetune_config(const std::string& file) {
  try {
    const YAML::Node root = YAML::LoadFile(file);
    return root.IsMap() && root["data"] && root["data"].IsMap() && root["data"]["train"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

std::string resolve_model_dir(const std::string& path) {
  if (fs::exists(fs::path(path) / "config.json")) return path;
  if (fs::exists(fs::path(path) / "model" / "config.json")) return (fs::path(path) / "model").string();
  const auto latest = train::find_latest_checkpoint(path);
  if (!latest.empty()) return latest;
  bf::fail(path + ": not a model directory (no config.json), a run directory or a checkpoints directory");
}

std::vector<std::string> check_finetune_paths(const FinetuneConfig& config) {
  std::vector<std::string> problems;
  auto must_exist = [&](const std::string& key, const std::string& path) {
    if (path.empty() || path == "-") return;
    if (!fs::exists(path))
      problems.push_back(key + ": '" + path + "' does not exist (resolved to " +
                         fs::absolute(path).lexically_normal().string() + ")");
  };
  must_exist("data.train", config.data.train);
  must_exist("data.dev", config.data.dev);
  must_exist("data.test", config.data.test);
  must_exist("model.init_from", config.model.arch.init_from);
  must_exist("model.tokenizer", config.model.tokenizer);
  if (config.model.arch.init_from.empty() && config.model.tokenizer.empty())
    problems.push_back("model.tokenizer: required when model.init_from is empty (a model trained from scratch)");
  fs::path out = fs::absolute(config.run.output_dir);
  while (!out.empty() && !fs::exists(out) && out != out.parent_path()) out = out.parent_path();
  if (!out.empty() && ::access(out.c_str(), W_OK) != 0)
    problems.push_back("run.output_dir: '" + config.run.output_dir + "' is not writable (" + out.string() + ")");
  return problems;
}

std::vector<double> class_weights_for(const std::string& setting, const classify::Dataset& train) {
  if (setting == "none" || setting.empty()) return {};
  const auto k = train.num_labels;
  std::vector<double> weights;
  if (setting == "balanced") {
    std::vector<double> counts(static_cast<std::size_t>(k), 0.0);
    for (const auto& e : train.examples) counts[static_cast<std::size_t>(e.label)] += 1;
    for (auto c : counts)
      weights.push_back(c > 0 ? static_cast<double>(train.size()) / (static_cast<double>(k) * c) : 0.0);
    return weights;
  }
  std::size_t start = 0;
  while (start <= setting.size()) {
    const auto comma = setting.find(',', start);
    const auto piece = setting.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    try {
      std::size_t used = 0;
      weights.push_back(std::stod(piece, &used));
    } catch (const std::exception&) {
      bf::fail("data.class_weights: '" + setting + "' is not none, balanced or a comma-separated list of numbers");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<std::int64_t>(weights.size()) != k)
    bf::fail("data.class_weights: " + std::to_string(weights.size()) + " weights for " + std::to_string(k) + " classes");
  for (auto w : weights)
    if (!(w >= 0)) bf::fail("data.class_weights: weights must be >= 0");
  return weights;
}

}  // namespace bf::ft
