#pragma once
// Embeddings from any model's encoder: one vector per sequence (the [CLS]
// state, the mean over its tokens, or the pooler's output), or every token's
// state; from one hidden layer or all of them; optionally L2-normalised.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "infer/batches.h"
#include "infer/job.h"
#include "infer/model.h"

namespace bf::infer {

enum class Pooling { Cls, Mean, Pooler, None };  // None: per-token states
// cls | mean | pooler | none
Pooling parse_pooling(const std::string& name);

struct EmbedOptions {
  Pooling pooling = Pooling::Cls;
  std::int64_t layer = -1;  // hidden_states index: 0 = embeddings, -1 = last
  bool all_layers = false;  // every hidden state (embeddings + each layer)
  bool normalize = false;   // each vector divided by its L2 norm
  std::int64_t batch_size = 64;
};

// The hidden-state index `options.layer` names, checked against the model
// (and a pooler it must have for Pooling::Pooler).
std::int64_t embed_layer(const Model& model, const EmbedOptions& options);

// Per sequence, float32 on the CPU: [H] (or [L+1, H] with all_layers) pooled,
// [S, H] (or [S, L+1, H]) for Pooling::None. The model is an encoder
// (Model::open(dir, device, Architecture::Encoder)).
std::vector<torch::Tensor> embed(Model& model, const std::vector<Sequence>& sequences, const EmbedOptions& options);

// A request for embeddings of texts (the server's /embed): one vector per
// text from the last layer, tokenized here on the caller's thread as
// [CLS] text [SEP]; its forwards may be batched with other requests'.
struct EmbedRequest {
  std::vector<std::string> texts;
  Pooling pooling = Pooling::Cls;  // cls | mean | pooler
  bool normalize = true;
  // Cut a text to max_length pieces; without it a longer text is a
  // RequestError (TooLarge) naming inputs[i].
  bool truncate = false;
  std::int64_t max_length = 0;  // 0: the model's max_position_embeddings
};
Job<std::vector<std::vector<float>>> embed_job(const Model& model, const EmbedRequest& request);

}  // namespace bf::infer
