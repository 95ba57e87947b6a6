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
  // Set by BertForPreTraining around a forward whose tied MLM decoder gives
  // the table a dense gradient: the lookup's part is then sparse (the looked-
  // up rows only) and autograd adds it into the decoder's in place, instead of
  // adding a dense [vocab, hidden] tensor of mostly zeros (24 ms of a base
  // bf16 step). Never set without that dense part: a sparse .grad would
  // reach the optimizer.
  bool sparse_word_gradient = false;

 private:
  double dropout_;
};
TORCH_MODULE(BertEmbeddings);

}  // namespace bf::model
