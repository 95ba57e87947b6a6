#include "model/bert_config.h"

#include <algorithm>
#include <set>
#include <type_traits>

#include "util/error.h"
#include "util/fs.h"

namespace bf::model {
namespace {

const std::vector<std::string>& known_activations() {
  static const std::vector<std::string> names{"gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish"};
  return names;
}

template <class T>
void read_field(const nlohmann::json& j, const char* key, T& out, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    bf::fail(where + ": field '" + key + "' has the wrong type (" + it->dump() + ")");
  }
}

std::vector<std::string> read_id2label(const nlohmann::json& j, const std::string& where) {
  std::vector<std::string> labels;
  auto it = j.find("id2label");
  if (it == j.end() || it->is_null()) return labels;
  if (!it->is_object()) bf::fail(where + ": field 'id2label' must be an object");
  labels.resize(it->size());
  std::set<std::size_t> seen;
  for (const auto& [key, value] : it->items()) {
    std::size_t id = 0;
    try {
      std::size_t used = 0;
      id = std::stoul(key, &used);
      if (used != key.size()) throw std::invalid_argument(key);
    } catch (const std::exception&) {
      bf::fail(where + ": id2label key '" + key + "' is not an integer");
    }
    if (id >= labels.size() || !seen.insert(id).second || !value.is_string())
      bf::fail(where + ": id2label must map 0.." + std::to_string(labels.size() - 1) + " to strings once each");
    labels[id] = value.get<std::string>();
  }
  return labels;
}

}  // namespace

std::string BertConfig::label_name(std::int64_t id) const {
  if (id >= 0 && id < static_cast<std::int64_t>(id2label.size())) return id2label[static_cast<std::size_t>(id)];
  return "LABEL_" + std::to_string(id);
}

std::int64_t BertConfig::label_id(const std::string& name) const {
  for (std::size_t i = 0; i < id2label.size(); ++i)
    if (id2label[i] == name) return static_cast<std::int64_t>(i);
  return -1;
}

void BertConfig::validate(const std::string& where) const {
  auto positive = [&](const char* name, std::int64_t v) {
    if (v <= 0) bf::fail(where + ": " + name + " must be > 0 (got " + std::to_string(v) + ")");
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  positive("num_labels", num_labels);
  if (hidden_size % num_attention_heads != 0)
    bf::fail(where + ": hidden_size (" + std::to_string(hidden_size) + ") must be divisible by num_attention_heads (" +
             std::to_string(num_attention_heads) + ")");
  const auto& acts = known_activations();
  if (std::find(acts.begin(), acts.end(), hidden_act) == acts.end())
    bf::fail(where + ": hidden_act '" + hidden_act + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)");
  auto probability = [&](const char* name, double p) {
    if (!(p >= 0.0 && p < 1.0)) bf::fail(where + ": " + name + " must be in [0, 1)");
  };
  probability("hidden_dropout_prob", hidden_dropout_prob);
  probability("attention_probs_dropout_prob", attention_probs_dropout_prob);
  if (classifier_dropout) probability("classifier_dropout", *classifier_dropout);
  if (!(initializer_range > 0.0)) bf::fail(where + ": initializer_range must be > 0");
  if (!(layer_norm_eps > 0.0)) bf::fail(where + ": layer_norm_eps must be > 0");
  if (pad_token_id < 0 || pad_token_id >= vocab_size)
    bf::fail(where + ": pad_token_id must be in [0, vocab_size)");
  if (position_embedding_type != "absolute")
    bf::fail(where + ": position_embedding_type '" + position_embedding_type + "' is not supported (absolute)");
  if (problem_type && *problem_type != "single_label_classification" && *problem_type != "multi_label_classification" &&
      *problem_type != "regression")
    bf::fail(where + ": problem_type '" + *problem_type + "' is not one of single_label_classification, "
             "multi_label_classification, regression");
  if (!id2label.empty() && static_cast<std::int64_t>(id2label.size()) != num_labels)
    bf::fail(where + ": id2label has " + std::to_string(id2label.size()) + " entries but num_labels is " +
             std::to_string(num_labels));
}

nlohmann::json BertConfig::to_json() const {
  nlohmann::json j = extra.is_object() ? extra : nlohmann::json::object();
  j["model_type"] = "bert";
  if (!architectures.empty()) j["architectures"] = architectures;
  visit_fields(*this, [&](const char* key, const auto& value, unsigned) { j[key] = value; });
  if (problem_type) j["problem_type"] = *problem_type;
  if (classifier_dropout) j["classifier_dropout"] = *classifier_dropout;
  // transformers derives num_labels from id2label, so always write the maps.
  nlohmann::json id2 = nlohmann::json::object();
  nlohmann::json label2 = nlohmann::json::object();
  for (std::int64_t i = 0; i < num_labels; ++i) {
    id2[std::to_string(i)] = label_name(i);
    label2[label_name(i)] = i;
  }
  j["id2label"] = id2;
  j["label2id"] = label2;
  return j;
}

BertConfig BertConfig::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) bf::fail(where + ": expected a JSON object");
  BertConfig c;
  if (auto it = j.find("model_type"); it != j.end() && it->is_string() && it->get<std::string>() != "bert")
    bf::fail(where + ": model_type is '" + it->get<std::string>() + "', only 'bert' is supported");
  visit_fields(c, [&](const char* key, auto& value, unsigned) { read_field(j, key, value, where); });
  read_field(j, "architectures", c.architectures, where);
  std::string problem;
  read_field(j, "problem_type", problem, where);
  if (!problem.empty()) c.problem_type = problem;
  double dropout = -1;
  read_field(j, "classifier_dropout", dropout, where);
  if (dropout >= 0) c.classifier_dropout = dropout;
  c.id2label = read_id2label(j, where);
  if (!c.id2label.empty()) {
    c.num_labels = static_cast<std::int64_t>(c.id2label.size());
  } else {
    read_field(j, "num_labels", c.num_labels, where);
  }
  std::set<std::string> interpreted{"model_type", "architectures", "problem_type", "classifier_dropout",
                                    "id2label",   "label2id",      "num_labels"};
  visit_fields(c, [&](const char* key, const auto&, unsigned) { interpreted.insert(key); });
  for (const auto& [key, value] : j.items())
    if (!interpreted.count(key)) c.extra[key] = value;
  c.validate(where);
  return c;
}

BertConfig BertConfig::load(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bf::read_file(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number that overflows
    bf::fail(path + ": invalid JSON: " + e.what());
  }
  return from_json(j, path);
}

void BertConfig::save(const std::string& path) const { bf::write_file_atomic(path, to_json().dump(2) + "\n"); }

BertConfig BertConfig::preset(const std::string& name) {
  struct Shape {
    const char* name;
    std::int64_t layers, hidden, heads;
  };
  static const Shape shapes[] = {{"tiny", 2, 128, 2},  {"mini", 4, 256, 4},  {"small", 4, 512, 8},
                                 {"medium", 8, 512, 8}, {"base", 12, 768, 12}, {"large", 24, 1024, 16}};
  for (const auto& s : shapes) {
    if (name != s.name) continue;
    BertConfig c;
    c.num_hidden_layers = s.layers;
    c.hidden_size = s.hidden;
    c.num_attention_heads = s.heads;
    c.intermediate_size = 4 * s.hidden;
    return c;
  }
  std::string list;
  for (const auto& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
  bf::fail("unknown model preset '" + name + "' (one of: " + list + ")");
}

std::vector<std::string> BertConfig::preset_names() { return {"tiny", "mini", "small", "medium", "base", "large"}; }

namespace {

nlohmann::json fields_as_json(const BertConfig& c, unsigned use) {
  nlohmann::json j = nlohmann::json::object();
  BertConfig::visit_fields(c, [&](const char* key, const auto& value, unsigned uses) {
    if (use == 0 || (uses & use)) j[key] = value;
  });
  return j;
}

}  // namespace

std::string shape_differences(const BertConfig& theirs, const BertConfig& ours) {
  const auto a = fields_as_json(theirs, kShape);
  const auto b = fields_as_json(ours, kShape);
  std::string out;
  for (const auto& [key, value] : a.items())
    if (value != b.at(key)) out += "\n  " + key + ": " + value.dump() + " there vs " + b.at(key).dump() + " in this config";
  return out;
}

void copy_fields(const BertConfig& from, BertConfig& to, const std::vector<std::string>& keys) {
  const auto values = fields_as_json(from, 0);
  BertConfig::visit_fields(to, [&](const char* key, auto& value, unsigned) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end())
      value = values.at(key).get<std::decay_t<decltype(value)>>();
  });
}

}  // namespace bf::model
