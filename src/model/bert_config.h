#pragma once
// BertConfig uses Hugging Face's config.json field names and defaults, so a
// config.json moves unchanged between bertforge and transformers.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bf::model {

// How an architecture field is used beyond config.json: kShape fields decide
// the weights' shapes (a checkpoint to resume or init from must agree on
// them); kOverridable ones can be set in a run config's `model:` section.
enum FieldUse : unsigned { kShape = 1u, kOverridable = 2u };

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

  // How this process computes, not what the model is: with it, each module
  // takes bertforge's fused CPU kernels where they run (model/fused/),
  // else its plain LibTorch expression, the reference (`bench train
  // --unfused` and the equality tests turn it off). Deliberately outside
  // visit_fields: never read from nor written to config.json (a key of that
  // name there stays in `extra`, uninterpreted), so exports load in HF as
  // they are, and both settings load the same weights.
  bool fused_kernels = true;

  // Keys we do not interpret (e.g. bertforge's head settings, transformers_version),
  // kept so that a load/save round trip loses nothing.
  nlohmann::json extra = nlohmann::json::object();

  // The architecture fields, listed once: config.json in and out, the run
  // config's model overrides (model/model_section.h) and the shape check all
  // go through this table. f(key, field, uses).
  template <class Self, class F>
  static void visit_fields(Self& c, F&& f) {
    f("num_hidden_layers", c.num_hidden_layers, kShape | kOverridable);
    f("hidden_size", c.hidden_size, kShape | kOverridable);
    f("num_attention_heads", c.num_attention_heads, kShape | kOverridable);
    f("intermediate_size", c.intermediate_size, kShape | kOverridable);
    f("max_position_embeddings", c.max_position_embeddings, kShape | kOverridable);
    f("type_vocab_size", c.type_vocab_size, kShape | kOverridable);
    f("hidden_act", c.hidden_act, kOverridable);
    f("hidden_dropout_prob", c.hidden_dropout_prob, kOverridable);
    f("attention_probs_dropout_prob", c.attention_probs_dropout_prob, kOverridable);
    f("initializer_range", c.initializer_range, kOverridable);
    f("layer_norm_eps", c.layer_norm_eps, kOverridable);
    f("vocab_size", c.vocab_size, kShape);
    f("pad_token_id", c.pad_token_id, 0u);
    f("position_embedding_type", c.position_embedding_type, 0u);
  }

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

// "" when the kShape fields agree, else one "\n  key: theirs there vs ours in
// this config" line per difference.
std::string shape_differences(const BertConfig& theirs, const BertConfig& ours);

// Sets the fields named in `keys` of `to` from `from`.
void copy_fields(const BertConfig& from, BertConfig& to, const std::vector<std::string>& keys);

}  // namespace bf::model
