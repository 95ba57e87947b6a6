#pragma once
#include <torch/torch.h>

#include "model/bert_config.h"

namespace bf::model {

// Google's and HF's initialisation: normal(0, initializer_range) for linear
// and embedding weights, zero biases, LayerNorm weight 1 and bias 0, and the
// padding row of the word embeddings zeroed. Uses torch's global generator, so
// seed it first (torch::manual_seed) for a reproducible model.
void init_bert_weights(torch::nn::Module& model, const BertConfig& config);

}  // namespace bf::model
