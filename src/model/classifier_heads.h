#pragma once
// Classifier heads: how a sequence's BERT states become one feature vector
// for the classifier. `pooler` is HF's BertForSequenceClassification; the
// others (cls, mean, attention) are bertforge's and need bertforge to load.
// The settings travel in config.json under "bertforge_head", so a saved model
// rebuilds the same head.
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "model/bert_config.h"
#include "model/bert_model.h"
#include "model/self_attention.h"
#include "util/config_reader.h"

namespace bf::model {

enum class HeadType { Pooler, Cls, Mean, Attention };
const EnumNames<HeadType>& head_type_names();

// The head's settings, listed once in visit(): the fine-tuning config's
// `model.head` section and config.json's "bertforge_head" both read and
// write them through it.
struct HeadOptions {
  HeadType type = HeadType::Pooler;
  std::int64_t layer = -1;           // index into hidden_states: 0 = embeddings, 1..L = layers, -1 = last
  std::int64_t weighted_layers = 0;  // > 0: a learned softmax-weighted sum of the last k layers (replaces layer)
  std::int64_t attention_heads = 0;  // attention head only; 0 = the encoder's num_attention_heads
  std::int64_t mlp_hidden = 0;       // > 0: dropout, dense, GELU before the classifier instead of a bare linear

  template <class V>
  void visit(V& v) {
    v.choice("type", type, head_type_names());
    v.field("layer", layer);
    v.field("weighted_layers", weighted_layers, non_negative<std::int64_t>());
    v.field("attention_heads", attention_heads, non_negative<std::int64_t>());
    v.field("mlp_hidden", mlp_hidden, non_negative<std::int64_t>());
  }

  // HF's head exactly: transformers can load the model.
  bool is_hf_compatible() const;
  bool needs_all_layers() const { return weighted_layers > 0 || layer != -1; }
  void validate(const BertConfig& config) const;

  nlohmann::json to_json() const;
  static HeadOptions from_json(const nlohmann::json& j);
  // From config.extra["bertforge_head"]; HF's pooler head when absent.
  static HeadOptions of(const BertConfig& config);
  void store_in(BertConfig& config) const;
};

// Mean of the states over the real tokens: [B, S, H], [B, S] -> [B, H].
torch::Tensor masked_mean(const torch::Tensor& states, const torch::Tensor& attention_mask);

// Picks the states (a layer, or the learned mix of the last k) and pools them
// to one vector per sequence. Its output feeds dropout + the classifier.
class ClassifierHeadImpl : public torch::nn::Module {
 public:
  ClassifierHeadImpl(const BertConfig& config, HeadOptions options);
  torch::Tensor forward(const BertModelOutput& encoded, const torch::Tensor& attention_mask, BertPooler& pooler);

  std::int64_t output_size() const;
  const HeadOptions& options() const { return options_; }

  torch::Tensor layer_weights;                 // [k] logits of the layer mix
  BertAttention attention{nullptr};            // the attention head's self-attention block
  torch::nn::Linear attention_pool{nullptr};   // one score per token
  torch::nn::Linear mlp{nullptr};

 private:
  torch::Tensor select_states(const BertModelOutput& encoded) const;
  torch::Tensor attention_pooling(const torch::Tensor& states, const torch::Tensor& attention_mask);

  HeadOptions options_;
  std::int64_t hidden_size_;
  double dropout_;
};
TORCH_MODULE(ClassifierHead);

}  // namespace bf::model
