#include "finetune/labels.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "util/error.h"

namespace bf::ft {
namespace {

bool is_integer_text(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  const std::size_t start = s[0] == '-' ? 1 : 0;
  if (start == s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(start), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

const EnumNames<TaskType>& task_names() {
  static const EnumNames<TaskType> names{{{TaskType::SingleLabel, "single_label"},
                                          {TaskType::MultiLabel, "multi_label"},
                                          {TaskType::Regression, "regression"},
                                          {TaskType::TokenClassification, "token_classification"},
                                          {TaskType::QuestionAnswering, "question_answering"}}};
  return names;
}

std::string task_name(TaskType task) { return task_names().name(task); }

std::string problem_type_of(TaskType task) {
  switch (task) {
    case TaskType::SingleLabel: return "single_label_classification";
    case TaskType::MultiLabel: return "multi_label_classification";
    case TaskType::Regression: return "regression";
    default: break;
  }
  return "single_label_classification";
}

TaskType task_of(const model::BertConfig& config) {
  if (config.problem_type == "regression" || (!config.problem_type && config.num_labels == 1))
    return TaskType::Regression;
  if (config.problem_type == "multi_label_classification") return TaskType::MultiLabel;
  return TaskType::SingleLabel;
}

LabelMap::LabelMap(std::vector<std::string> names) : names_(std::move(names)) {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (!ids_.emplace(names_[i], static_cast<std::int64_t>(i)).second)
      bf::fail("label '" + names_[i] + "' appears twice in the label list");
  }
}

LabelMap LabelMap::from_labels(const std::vector<std::string>& seen) {
  std::set<std::string> unique(seen.begin(), seen.end());
  std::vector<std::string> names(unique.begin(), unique.end());
  const bool numeric = std::all_of(names.begin(), names.end(), is_integer_text);
  if (numeric)
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return std::stoll(a) < std::stoll(b);
    });
  return LabelMap(std::move(names));
}

LabelMap LabelMap::of(const model::BertConfig& config) {
  std::vector<std::string> names;
  for (std::int64_t i = 0; i < config.num_labels; ++i) names.push_back(config.label_name(i));
  return LabelMap(std::move(names));
}

void LabelMap::store_in(model::BertConfig& config) const {
  config.num_labels = size();
  config.id2label = names_;
}

std::int64_t LabelMap::id(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

bool label_text(const nlohmann::json& value, std::string& out) {
  if (value.is_string()) {
    out = trim(value.get<std::string>());
    return !out.empty();
  }
  if (value.is_number_integer()) {
    out = std::to_string(value.get<std::int64_t>());
    return true;
  }
  if (value.is_boolean()) {
    out = value.get<bool>() ? "true" : "false";
    return true;
  }
  return false;
}

bool multi_label_texts(const nlohmann::json& value, const std::string& separator, std::vector<std::string>& out) {
  out.clear();
  if (value.is_array()) {
    for (const auto& item : value) {
      std::string text;
      if (!label_text(item, text)) return false;
      out.push_back(text);
    }
    return true;
  }
  if (!value.is_string()) return false;
  const auto cell = value.get<std::string>();
  if (trim(cell).empty()) return true;
  std::size_t start = 0;
  while (true) {
    const auto at = separator.empty() ? std::string::npos : cell.find(separator, start);
    const auto piece = trim(cell.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (piece.empty()) return false;
    out.push_back(piece);
    if (at == std::string::npos) return true;
    start = at + separator.size();
  }
}

bool regression_value(const nlohmann::json& value, double& out) {
  if (value.is_number()) {
    out = value.get<double>();
    return std::isfinite(out);
  }
  if (!value.is_string()) return false;
  const auto text = trim(value.get<std::string>());
  if (text.empty()) return false;
  try {
    std::size_t used = 0;
    out = std::stod(text, &used);
    return used == text.size() && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace bf::ft
