#pragma once
// Task types and label maps. A single-label or multi-label map is built from
// the training set (or given in the config), stored in the model's config.json
// as id2label/label2id with the problem type, and read back by evaluate and
// predict, so ids mean the same thing everywhere.
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "model/bert_config.h"
#include "util/config_reader.h"

namespace bf::ft {

enum class TaskType { SingleLabel, MultiLabel, Regression, TokenClassification, QuestionAnswering };
// single_label | multi_label | regression | token_classification |
// question_answering, as data.task names them.
const EnumNames<TaskType>& task_names();
std::string task_name(TaskType task);
std::string problem_type_of(TaskType task);     // HF's problem_type
TaskType task_of(const model::BertConfig& config);

class LabelMap {
 public:
  LabelMap() = default;
  explicit LabelMap(std::vector<std::string> names);

  // Integer-looking labels sort numerically ("2" < "10"), others as strings,
  // so the map does not depend on the order of the rows.
  static LabelMap from_labels(const std::vector<std::string>& seen);
  static LabelMap of(const model::BertConfig& config);
  void store_in(model::BertConfig& config) const;

  std::int64_t size() const { return static_cast<std::int64_t>(names_.size()); }
  std::int64_t id(const std::string& name) const;  // -1 when unknown
  const std::string& name(std::int64_t id) const { return names_.at(static_cast<std::size_t>(id)); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, std::int64_t> ids_;
};

// A label cell as text: JSON strings as they are, integers and booleans as
// written; anything else is an error message (returned false).
bool label_text(const nlohmann::json& value, std::string& out);
// The labels of a multi-label cell: a JSON list, or text split on `separator`
// (an empty cell is no labels).
bool multi_label_texts(const nlohmann::json& value, const std::string& separator, std::vector<std::string>& out);
bool regression_value(const nlohmann::json& value, double& out);

}  // namespace bf::ft
