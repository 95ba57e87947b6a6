#pragma once
// Where a BERT model's word embedding gradient comes from, for data-parallel
// training to average it in parts (dist::GradientReducer). The lookup's part
// only has the rows of the step's input ids; pretraining's tied decoder adds
// a dense part that backward computes first, long before the lookup's. As one
// tensor the table (2/3 of mini's parameters) could only be averaged after
// backward, and that wait was most of the exposed all-reduce.
#include <torch/torch.h>

#include <functional>

namespace bf::model {

struct WordEmbeddingUse {
  torch::Tensor weight;       // undefined: the model has no (single) BERT embedding
  bool tied_decoder = false;  // the MLM decoder shares it
};
WordEmbeddingUse find_word_embedding(torch::nn::Module& model);

struct WordEmbeddingGradientHooks {
  // Each training forward's input ids: the rows its lookup's gradient touches.
  std::function<void(const torch::Tensor& input_ids)> on_lookup;
  // The tied decoder's part of the gradient, as soon as backward has it.
  std::function<void(const torch::Tensor& grad)> on_decoder_gradient;
};
// Installs the hooks in the model's BERT modules; empty hooks remove them.
void set_word_embedding_gradient_hooks(torch::nn::Module& model, const WordEmbeddingGradientHooks& hooks);

}  // namespace bf::model
