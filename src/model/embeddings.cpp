#include "model/embeddings.h"
#include "model/dropout.h"

#include "util/error.h"

namespace bf::model {

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) : dropout_(c.hidden_dropout_prob) {
  // padding_idx as HF: the [PAD] row gets no gradient from the embedding lookup.
  word_embeddings = register_module(
      "word_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids) {
  const auto seq_len = input_ids.size(1);
  if (seq_len > position_embeddings->weight.size(0))
    bf::fail("sequence length " + std::to_string(seq_len) + " exceeds max_position_embeddings " +
             std::to_string(position_embeddings->weight.size(0)));
  if (on_lookup && is_training() && torch::GradMode::is_enabled()) on_lookup(input_ids);
  // Positions are a broadcast slice of the table: no index tensor, no gather.
  auto positions = position_embeddings->weight.narrow(0, 0, seq_len).unsqueeze(0);
  auto words = sparse_word_gradient ? torch::nn::functional::embedding(
                                          input_ids, word_embeddings->weight,
                                          torch::nn::functional::EmbeddingFuncOptions()
                                              .padding_idx(word_embeddings->options.padding_idx())
                                              .sparse(true))
                                    : word_embeddings->forward(input_ids);
  auto x = words + token_type_embeddings->forward(token_type_ids) + positions;
  x = LayerNorm->forward(x);
  return bf::model::dropout(x, dropout_, is_training());
}

}  // namespace bf::model
