#pragma once
#include <torch/torch.h>

#include <vector>

#include "model/bert_config.h"
#include "model/embeddings.h"
#include "model/transformer_layer.h"

namespace bf::model {

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const BertConfig& config);
  // Returns the output of every layer when all_layers is set, else only the last.
  std::vector<torch::Tensor> forward(torch::Tensor hidden, const torch::Tensor& additive_mask, bool all_layers);

  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertEncoder);

// dense + tanh on the first ([CLS]) token.
class BertPoolerImpl : public torch::nn::Module {
 public:
  explicit BertPoolerImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);

  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

struct BertModelOutput {
  torch::Tensor last_hidden_state;            // [B, S, H]
  torch::Tensor pooler_output;                // [B, H]; undefined without a pooler
  std::vector<torch::Tensor> hidden_states;   // embeddings + every layer, when asked
};

// HF's BertModel: embeddings, encoder, pooler.
class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(const BertConfig& config, bool add_pooling_layer = true);
  // attention_mask: 1 for tokens, 0 for padding; token_type_ids may be undefined (all 0).
  BertModelOutput forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                          const torch::Tensor& attention_mask, bool output_hidden_states = false);

  const BertConfig& config() const { return config_; }

  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};

 private:
  BertConfig config_;
};
TORCH_MODULE(BertModel);

// (1 - mask) * -10000 broadcast to [B, 1, 1, S], as HF builds it: padded keys
// get no weight, padded queries still attend to the real tokens.
torch::Tensor additive_attention_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype);

}  // namespace bf::model
