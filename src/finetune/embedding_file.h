#pragma once
// `bertforge embed`: the rows of a TSV/CSV/JSONL/text file through any model
// directory's encoder (infer/embed.h), written as safetensors or JSON lines.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "finetune/tasks.h"

namespace bf::ft {

struct EmbedOptions {
  std::string pooling = "cls";  // cls | mean | pooler | none (per-token states)
  std::int64_t layer = -1;      // hidden_states index: 0 = embeddings, -1 = last
  bool all_layers = false;      // every hidden state (embeddings + each layer)
  bool normalize = false;       // each vector divided by its L2 norm
  std::string output_format = "auto";  // safetensors | jsonl, auto by the output's extension
};

struct EmbedSummary {
  std::int64_t rows = 0;
  std::vector<std::int64_t> shape;  // of the embeddings (safetensors output)
};

// Safetensors output: "embeddings" [N, H] (or [N, L+1, H] with all_layers);
// with pooling none, "states" [T, H] (or [T, L+1, H]) for all T tokens,
// "input_ids" [T] and "offsets" [N+1] (row i owns tokens offsets[i]..offsets[i+1]).
EmbedSummary embed_file(const std::string& model_dir, const std::string& input, const std::string& output,
                        const InputSettings& settings, const EmbedOptions& options, torch::Device device);

}  // namespace bf::ft
