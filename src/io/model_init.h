#pragma once
// A freshly initialised model directory (HF layout) of any architecture:
// `bertforge model init`.
#include <cstdint>
#include <string>

namespace bf::io {

struct ModelInitOptions {
  std::string preset = "mini";
  std::string out;
  std::string arch = "pretraining";
  std::string tokenizer;
  std::int64_t vocab_size = 0;
  std::int64_t num_labels = 0;
  std::int64_t seed = 42;
};

// Writes the directory; returns the parameter count. The vocabulary size
// comes from the tokenizer when one is given (a contradicting vocab_size is
// an error), and the weights are a function of the seed alone.
std::int64_t init_model_dir(const ModelInitOptions& options);

}  // namespace bf::io
