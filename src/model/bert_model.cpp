#include "model/bert_model.h"

namespace bf::model {

BertEncoderImpl::BertEncoderImpl(const BertConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(BertLayer(c));
}

std::vector<torch::Tensor> BertEncoderImpl::forward(torch::Tensor hidden, const torch::Tensor& additive_mask,
                                                    bool all_layers) {
  std::vector<torch::Tensor> outputs;
  for (const auto& module : *layer) {
    hidden = module->as<BertLayer>()->forward(hidden, additive_mask);
    if (all_layers) outputs.push_back(hidden);
  }
  if (!all_layers) outputs.push_back(hidden);
  return outputs;
}

BertPoolerImpl::BertPoolerImpl(const BertConfig& c) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor BertPoolerImpl::forward(const torch::Tensor& hidden) {
  return torch::tanh(dense->forward(hidden.select(1, 0)));
}

torch::Tensor additive_attention_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  auto mask = attention_mask.to(dtype).unsqueeze(1).unsqueeze(2);
  return (1.0 - mask) * -10000.0;
}

BertModelImpl::BertModelImpl(const BertConfig& c, bool add_pooling_layer) : config_(c) {
  c.validate();
  embeddings = register_module("embeddings", BertEmbeddings(c));
  encoder = register_module("encoder", BertEncoder(c));
  if (add_pooling_layer) pooler = register_module("pooler", BertPooler(c));
}

BertModelOutput BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                       const torch::Tensor& attention_mask, bool output_hidden_states) {
  auto types = token_type_ids.defined() ? token_type_ids : torch::zeros_like(input_ids);
  auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(input_ids);
  auto hidden = embeddings->forward(input_ids, types);
  // Built in the activations' dtype; attention casts it to its compute dtype
  // under autocast.
  auto additive = additive_attention_mask(mask, hidden.scalar_type());
  BertModelOutput out;
  auto layers = encoder->forward(hidden, additive, output_hidden_states);
  if (output_hidden_states) {
    out.hidden_states.push_back(hidden);
    out.hidden_states.insert(out.hidden_states.end(), layers.begin(), layers.end());
  }
  out.last_hidden_state = layers.back();
  if (pooler) out.pooler_output = pooler->forward(out.last_hidden_state);
  return out;
}

}  // namespace bf::model
