#include "model/word_embedding_gradient.h"

#include "model/bert_for_pretraining.h"
#include "model/embeddings.h"

namespace bf::model {

namespace {

std::vector<BertEmbeddingsImpl*> embeddings_in(torch::nn::Module& model) {
  std::vector<BertEmbeddingsImpl*> found;
  for (const auto& m : model.modules())
    if (auto* e = m->as<BertEmbeddingsImpl>()) found.push_back(e);
  return found;
}

BertForPreTrainingImpl* pretraining_model(torch::nn::Module& model) {
  for (const auto& m : model.modules())
    if (auto* p = m->as<BertForPreTrainingImpl>()) return p;
  return nullptr;
}

}  // namespace

WordEmbeddingUse find_word_embedding(torch::nn::Module& model) {
  const auto embeddings = embeddings_in(model);
  if (embeddings.size() != 1) return {};
  return {embeddings.front()->word_embeddings->weight, pretraining_model(model) != nullptr};
}

void set_word_embedding_gradient_hooks(torch::nn::Module& model, const WordEmbeddingGradientHooks& hooks) {
  for (auto* e : embeddings_in(model)) e->on_lookup = hooks.on_lookup;
  if (auto* p = pretraining_model(model)) p->on_decoder_gradient = hooks.on_decoder_gradient;
}

}  // namespace bf::model
