#pragma once
#include <torch/torch.h>

#include <functional>

#include "model/bert_config.h"

namespace bf::model {

// word + position + token type embeddings, then LayerNorm and dropout.
class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& config);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids);

  torch::nn::Embedding word_embeddings{nullptr};
  torch::nn::Embedding position_embeddings{nullptr};
  torch::nn::Embedding token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // HF's parameter name
  // Told each training forward's input ids (model/word_embedding_gradient.h).
  std::function<void(const torch::Tensor& input_ids)> on_lookup;

 private:
  double dropout_;
};
TORCH_MODULE(BertEmbeddings);

}  // namespace bf::model
