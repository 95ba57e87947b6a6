#include "data/data_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace bf::data {

YAML::Emitter& operator<<(YAML::Emitter& out, const InputSpec& input) {
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << input.path;
  out << YAML::Key << "format" << YAML::Value << input.format;
  out << YAML::EndMap;
  return out;
}

std::vector<std::pair<std::string, std::string>> DataConfig::cross_field_problems() const {
  std::vector<std::pair<std::string, std::string>> problems;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string where = "[" + std::to_string(i) + "]: ";
    if (!inputs[i].problem.empty()) {
      problems.emplace_back("inputs", where + inputs[i].problem);
    } else if (inputs[i].format != "google" && inputs[i].format != "paragraph") {
      problems.emplace_back("inputs", where + "format '" + inputs[i].format + "' is not one of: google, paragraph");
    }
  }
  const double ratios = mask_token_ratio + random_token_ratio + keep_ratio;
  if (std::abs(ratios - 1.0) > 1e-6) {
    std::ostringstream os;
    os << "mask_token_ratio + random_token_ratio + keep_ratio must be 1 (is " << ratios << ")";
    problems.emplace_back("keep_ratio", os.str());
  }
  if (!word_refs.empty() && word_segmentation != "none") {
    problems.emplace_back("word_refs", "the ref file is the segmentation: it needs word_segmentation: none (is " +
                                           word_segmentation + ")");
  }
  if (!user_words.empty() && word_segmentation == "none") {
    problems.emplace_back("user_words", "applies to word_segmentation: icu or pretokenized (is none)");
  }
  if (max_predictions_per_seq > max_seq_length) {
    problems.emplace_back("max_predictions_per_seq", "must be <= max_seq_length (" + std::to_string(max_seq_length) + ")");
  }
  return problems;
}

void DataConfig::pair_task_keys(ConfigReader& v) {
  std::optional<bool> old_key;
  std::string name;  // stays empty when the config does not write pair_task
  v.field("nsp", old_key);
  v.field("pair_task", name, one_of(pair_task_names().names()));
  const auto task = pair_task_names().parse(name);
  if (task && old_key && *old_key != (*task != PairTask::None)) {
    v.invalid("pair_task", "'" + name + "' contradicts nsp: " + (*old_key ? "true" : "false") +
                               " (nsp is the old key: nsp: false means pair_task: none); keep one of the two");
  }
  if (task) {
    pair_task = *task;
  } else if (old_key) {
    pair_task = *old_key ? PairTask::Nsp : PairTask::None;
  }
  nsp = pair_task != PairTask::None;
}

void DataConfig::mask_unit_keys(ConfigReader& v) {
  std::optional<bool> old_key;
  std::string name;  // stays empty when the config does not write mask_unit
  v.field("whole_word_masking", old_key);
  v.field("mask_unit", name, one_of(mask_unit_names().names()));
  const auto unit = mask_unit_names().parse(name);
  if (unit && old_key && *old_key != (*unit == MaskUnit::WholeWord)) {
    v.invalid("mask_unit", "'" + name + "' contradicts whole_word_masking: " + (*old_key ? "true" : "false") +
                               " (whole_word_masking is the old key: true means mask_unit: whole_word); "
                               "keep one of the two");
  }
  if (unit) {
    mask_unit = *unit;
  } else if (old_key) {
    mask_unit = *old_key ? MaskUnit::WholeWord : MaskUnit::Token;
  }
  whole_word_masking = mask_unit == MaskUnit::WholeWord;
}

std::string DataConfig::shard_identity() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format_version" << YAML::Value << 1;
  out << YAML::Key << "inputs" << YAML::Value << YAML::BeginSeq;
  for (const auto& input : inputs) out << input;
  out << YAML::EndSeq;
  out << YAML::Key << "heldout_fraction" << YAML::Value << heldout_fraction;
  out << YAML::Key << "seed" << YAML::Value << seed;
  out << YAML::Key << "bad_input" << YAML::Value << bad_input;
  out << YAML::Key << "max_line_bytes" << YAML::Value << max_line_bytes;
  out << YAML::Key << "shard_tokens" << YAML::Value << shard_tokens;
  // Only when set, so that builds made before these keys existed stay current.
  if (word_segmentation != "none") out << YAML::Key << "word_segmentation" << YAML::Value << word_segmentation;
  if (!word_refs.empty()) out << YAML::Key << "word_refs" << YAML::Value << word_refs;
  if (!user_words.empty()) out << YAML::Key << "user_words" << YAML::Value << user_words;
  out << YAML::EndMap;
  return out.c_str();
}

namespace {

std::string read_tokenizer_key(const YAML::Node& root, const std::string& file, std::vector<std::string>& errors) {
  const YAML::Node node = root["tokenizer"];
  auto where = [&](const YAML::Node& at) {
    return file + (at.Mark().line >= 0 ? ":" + std::to_string(at.Mark().line + 1) : std::string()) + ": ";
  };
  if (!node || node.IsNull()) {
    errors.push_back(file + ": tokenizer: required key is missing (the tokenizer directory)");
    return {};
  }
  if (node.IsScalar()) return node.as<std::string>();
  if (node.IsMap()) {
    for (const char* key : {"dir", "path"}) {
      if (node[key] && node[key].IsScalar()) return node[key].as<std::string>();
    }
  }
  errors.push_back(where(node) + "tokenizer: expected a directory, or a mapping with dir:");
  return {};
}

}  // namespace

DataBuildConfig read_data_build_config(const std::string& file, const std::vector<std::string>& overrides,
                                       std::vector<std::string> known) {
  YAML::Node root = load_yaml_file(file);
  apply_overrides(root, overrides);
  if (!root || !root.IsMap()) bf::fail(file + ": the top level must be a mapping with tokenizer: and data:");

  DataBuildConfig config;
  std::vector<std::string> errors;
  config.tokenizer = read_tokenizer_key(root, file, errors);
  ConfigReader reader(root, file, "", &errors);
  reader.section("data", config.data);
  if (!root["data"]) errors.push_back(file + ": data: required section is missing");
  known.push_back("tokenizer");
  known.push_back("data");
  for (const auto& item : root) {
    if (!item.first.IsScalar()) {  // "? [a, b]: 1": as<std::string>() would throw yaml-cpp's own exception
      errors.push_back(file + ":" + std::to_string(item.first.Mark().line + 1) +
                       ": a key must be a plain name, not a list or a mapping");
      continue;
    }
    const std::string key = item.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = file + ":" + std::to_string(item.first.Mark().line + 1) + ": " + key + ": unknown key";
    const std::string guess = did_you_mean(key, known);
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    errors.push_back(message);
  }
  if (config.data.inputs.empty() && root["data"]) errors.push_back(file + ": data.inputs: required key is missing");
  if (!errors.empty()) {
    std::string message = "invalid config " + file + " (" + std::to_string(errors.size()) + " problem" +
                          (errors.size() == 1 ? "" : "s") + "):";
    for (const auto& e : errors) message += "\n  " + e;
    bf::fail(message);
  }
  return config;
}

}  // namespace bf::data

namespace YAML {

Node convert<bf::data::InputSpec>::encode(const bf::data::InputSpec& input) {
  Node node(NodeType::Map);
  node["path"] = input.path;
  node["format"] = input.format;
  return node;
}

bool convert<bf::data::InputSpec>::decode(const Node& node, bf::data::InputSpec& input) {
  input = {};
  if (node.IsScalar()) {
    input.path = node.as<std::string>();
    return true;
  }
  if (!node.IsMap()) {
    input.problem = "expected a path or a mapping {path:, format:}";
    return true;
  }
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    if (key == "path" && item.second.IsScalar()) {
      input.path = item.second.as<std::string>();
    } else if (key == "format" && item.second.IsScalar()) {
      input.format = item.second.as<std::string>();
    } else if (key == "path" || key == "format") {
      input.problem = key + ": expected a string";
    } else {
      input.problem = "unknown key '" + key + "'";
      const std::string guess = bf::did_you_mean(key, {"path", "format"});
      if (!guess.empty()) input.problem += " (did you mean '" + guess + "'?)";
    }
  }
  if (input.problem.empty() && input.path.empty()) input.problem = "path: required key is missing";
  return true;
}

}  // namespace YAML
