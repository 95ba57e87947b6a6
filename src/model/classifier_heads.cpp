#include "model/classifier_heads.h"
#include "model/dropout.h"

#include <algorithm>

#include "util/error.h"

namespace bf::model {

const EnumNames<HeadType>& head_type_names() {
  static const EnumNames<HeadType> names{
      {{HeadType::Pooler, "pooler"}, {HeadType::Cls, "cls"}, {HeadType::Mean, "mean"}, {HeadType::Attention, "attention"}}};
  return names;
}

bool HeadOptions::is_hf_compatible() const {
  return type == HeadType::Pooler && layer == -1 && weighted_layers == 0 && mlp_hidden == 0;
}

namespace {

// HeadOptions::visit over config.json's "bertforge_head" object.
struct JsonWriter {
  nlohmann::json& j;
  template <class T, class C = int>
  void field(const std::string& key, const T& value, C = {}) {
    j[key] = value;
  }
  template <class E>
  void choice(const std::string& key, const E& value, const EnumNames<E>& names) {
    j[key] = names.name(value);
  }
};

struct JsonReader {
  const nlohmann::json& j;
  template <class T, class C = int>
  void field(const std::string& key, T& value, C = {}) {
    value = j.value(key, value);
  }
  template <class E>
  void choice(const std::string& key, E& value, const EnumNames<E>& names) {
    const auto name = j.value(key, names.name(value));
    auto parsed = names.parse(name);
    if (!parsed) bf::fail("config.json: bertforge_head." + key + " '" + name + "' is not one of the known values");
    value = *parsed;
  }
};

}  // namespace

void HeadOptions::validate(const BertConfig& c) const {
  const auto layers = c.num_hidden_layers;
  if (layer < -(layers + 1) || layer > layers)
    bf::fail("head.layer " + std::to_string(layer) + " is out of range: the model has hidden states 0.." +
             std::to_string(layers) + " (0 = embeddings, -1 = last layer)");
  if (weighted_layers < 0 || weighted_layers > layers + 1)
    bf::fail("head.weighted_layers must be in [0, " + std::to_string(layers + 1) + "]");
  if (attention_heads < 0 || (attention_heads > 0 && c.hidden_size % attention_heads != 0))
    bf::fail("head.attention_heads (" + std::to_string(attention_heads) + ") must divide hidden_size (" +
             std::to_string(c.hidden_size) + ")");
  if (mlp_hidden < 0) bf::fail("head.mlp_hidden must be >= 0");
}

nlohmann::json HeadOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  JsonWriter writer{j};
  HeadOptions copy = *this;
  copy.visit(writer);
  return j;
}

HeadOptions HeadOptions::from_json(const nlohmann::json& j) {
  HeadOptions o;
  if (!j.is_object()) bf::fail("config.json: bertforge_head must be an object");
  try {
    JsonReader reader{j};
    o.visit(reader);
  } catch (const nlohmann::json::exception& e) {
    bf::fail(std::string("config.json: bertforge_head: ") + e.what());
  }
  return o;
}

HeadOptions HeadOptions::of(const BertConfig& config) {
  if (!config.extra.is_object() || !config.extra.contains("bertforge_head")) return {};
  return from_json(config.extra.at("bertforge_head"));
}

void HeadOptions::store_in(BertConfig& config) const {
  if (!config.extra.is_object()) config.extra = nlohmann::json::object();
  // An HF-default head leaves config.json as transformers writes it.
  if (is_hf_compatible()) {
    config.extra.erase("bertforge_head");
    return;
  }
  config.extra["bertforge_head"] = to_json();
}

torch::Tensor masked_mean(const torch::Tensor& states, const torch::Tensor& attention_mask) {
  auto mask = attention_mask.to(states.scalar_type()).unsqueeze(-1);
  return (states * mask).sum(1) / mask.sum(1).clamp_min(1.0);
}

ClassifierHeadImpl::ClassifierHeadImpl(const BertConfig& c, HeadOptions options)
    : options_(std::move(options)),
      hidden_size_(c.hidden_size),
      dropout_(c.classifier_dropout.value_or(c.hidden_dropout_prob)) {
  options_.validate(c);
  if (options_.weighted_layers > 0)
    layer_weights = register_parameter("layer_weights", torch::zeros({options_.weighted_layers}));
  if (options_.type == HeadType::Attention) {
    auto attention_config = c;
    if (options_.attention_heads > 0) attention_config.num_attention_heads = options_.attention_heads;
    attention = register_module("attention", BertAttention(attention_config));
    attention_pool = register_module("attention_pool", torch::nn::Linear(c.hidden_size, 1));
  }
  if (options_.mlp_hidden > 0) mlp = register_module("mlp", torch::nn::Linear(c.hidden_size, options_.mlp_hidden));
}

std::int64_t ClassifierHeadImpl::output_size() const {
  return options_.mlp_hidden > 0 ? options_.mlp_hidden : hidden_size_;
}

torch::Tensor ClassifierHeadImpl::select_states(const BertModelOutput& encoded) const {
  if (!options_.needs_all_layers()) return encoded.last_hidden_state;
  const auto& all = encoded.hidden_states;
  if (all.empty()) bf::fail("classifier head: the encoder did not return its hidden states");
  const auto n = static_cast<std::int64_t>(all.size());
  if (options_.weighted_layers > 0) {
    const auto k = options_.weighted_layers;
    auto stacked = torch::stack(std::vector<torch::Tensor>(all.end() - k, all.end()));  // [k, B, S, H]
    auto weights = torch::softmax(layer_weights, 0).to(stacked.scalar_type()).view({k, 1, 1, 1});
    return (stacked * weights).sum(0);
  }
  const auto index = options_.layer < 0 ? n + options_.layer : options_.layer;
  return all.at(static_cast<std::size_t>(index));
}

torch::Tensor ClassifierHeadImpl::attention_pooling(const torch::Tensor& states, const torch::Tensor& attention_mask) {
  auto fused = attention->forward(states, additive_attention_mask(attention_mask, states.scalar_type()));
  // Padding gets no weight in the pooling softmax, as in the attention itself.
  auto scores = attention_pool->forward(fused).squeeze(-1).to(torch::kFloat32);
  scores = scores.masked_fill(attention_mask == 0, -1e4);
  auto weights = torch::softmax(scores, 1).to(fused.scalar_type()).unsqueeze(-1);
  return (fused * weights).sum(1);
}

torch::Tensor ClassifierHeadImpl::forward(const BertModelOutput& encoded, const torch::Tensor& attention_mask,
                                          BertPooler& pooler) {
  auto states = select_states(encoded);
  torch::Tensor pooled;
  if (options_.type == HeadType::Pooler) {
    pooled = options_.needs_all_layers() ? pooler->forward(states) : encoded.pooler_output;
  } else if (options_.type == HeadType::Cls) {
    pooled = states.select(1, 0);
  } else if (options_.type == HeadType::Mean) {
    pooled = masked_mean(states, attention_mask);
  } else {
    pooled = attention_pooling(states, attention_mask);
  }
  if (mlp) pooled = torch::gelu(mlp->forward(bf::model::dropout(pooled, dropout_, is_training())));
  return pooled;
}

}  // namespace bf::model
