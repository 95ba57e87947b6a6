#pragma once
// BertConfig uses Hugging Face's config.json field names and defaults, so a
// config.json moves unchanged between bertforge and transformers.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bf::model {

struct BertConfig {
  std::int64_t vocab_size = 30522;
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";  // gelu (exact erf) | gelu_new | gelu_pytorch_tanh | relu | silu
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  std::int64_t pad_token_id = 0;
  std::string position_embedding_type = "absolute";

  // Sequence classification (BertForSequenceClassification).
  std::int64_t num_labels = 2;
  std::optional<std::string> problem_type;  // single_label_classification | multi_label_classification | regression
  std::vector<std::string> id2label;        // index = class id; empty = LABEL_0..LABEL_{n-1}
  std::optional<double> classifier_dropout;

  std::vector<std::string> architectures;
  // Keys we do not interpret (e.g. bertforge's head settings, transformers_version),
  // kept so that a load/save round trip loses nothing.
  nlohmann::json extra = nlohmann::json::object();

  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
  std::string label_name(std::int64_t id) const;
  std::int64_t label_id(const std::string& name) const;  // -1 when unknown

  // Throws bf::Error naming `where` and the offending field.
  void validate(const std::string& where = "config") const;

  nlohmann::json to_json() const;
  static BertConfig from_json(const nlohmann::json& j, const std::string& where = "config.json");
  static BertConfig load(const std::string& path);
  void save(const std::string& path) const;

  // tiny | mini | small | medium | base | large (intermediate = 4 x hidden).
  static BertConfig preset(const std::string& name);
  static std::vector<std::string> preset_names();
};

}  // namespace bf::model
