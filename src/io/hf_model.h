#pragma once
// Hugging Face model directories: config.json + model.safetensors (+ the
// tokenizer files). Parameter names are HF's state-dict names, so import and
// export are a name-for-name copy; the only translations are the ones
// transformers itself applies (legacy LayerNorm gamma/beta, the "bert." prefix
// of a bare BertModel, tied decoder weights).
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/bert_config.h"

namespace bf::tok {
class Tokenizer;
}

namespace bf::io {

class SafetensorsReader;

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the model, not in the file (left as initialised)
  std::vector<std::string> unexpected;  // in the file, not in the model (ignored)
  std::string summary() const;
};

// The model's parameters and buffers under their HF names.
std::vector<std::pair<std::string, torch::Tensor>> model_state(const torch::nn::Module& model);

// Copies tensors from a weights file (model.safetensors, or pytorch_model.bin
// through LibTorch's unpickler) into the model. Shape mismatches are errors; missing and
// unexpected keys are reported. Values are converted to each parameter's dtype
// and device (a BF16 file loads into an fp32 model).
LoadReport load_weights(torch::nn::Module& model, const std::string& weights_file);
LoadReport load_weights(torch::nn::Module& model, const SafetensorsReader& weights);

// The weights file of a model directory: model.safetensors, else pytorch_model.bin.
std::string find_weights_file(const std::string& model_dir);
model::BertConfig load_model_config(const std::string& model_dir);
// The same from config.json's text, checked against the size of the weights
// file it describes (a checkpoint's files, already read).
model::BertConfig parse_model_config(std::string_view json_text, const std::string& config_path,
                                     const std::string& weights_path, std::uint64_t weights_bytes);

// Writes config.json and model.safetensors (each atomically) and, when given,
// the tokenizer files; config.json then records the tokenizer's hash and vocab
// size. The tied decoder weight is omitted, as transformers does.
void save_model_dir(const std::string& dir, const torch::nn::Module& model, const model::BertConfig& config,
                    const tok::Tokenizer* tokenizer = nullptr);

// The tokenizer a model directory carries, checked against the model: the
// vocab size must equal config.vocab_size and the hash the one recorded at
// save time. A clear error names the directory and what differs.
std::unique_ptr<tok::Tokenizer> load_model_tokenizer(const std::string& model_dir, const model::BertConfig& config);

}  // namespace bf::io
