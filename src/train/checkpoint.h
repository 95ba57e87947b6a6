#pragma once
// Checkpoints are directories:
//   checkpoints/step-00000100/
//     config.json, model.safetensors, tokenizer files   (an HF model directory)
//     optimizer.safetensors + trainer_state.json         (optimizer state, step, data cursor, RNG, metrics)
//     rng.safetensors                                    (every generator's state)
//     run_config.yaml                                    (the resolved run config)
//     manifest.json                                      (size + XXH3 of every file, written last)
//   checkpoints/latest                                   (name of the newest complete checkpoint)
// A checkpoint is written into a hidden temporary directory, every file
// fsync'd, then renamed into place: a crash at any moment leaves the previous
// checkpoints untouched and never a partial one under a step-* name
// (util/atomic_dir.h).
#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/bert_config.h"
#include "util/fs.h"

namespace bf::tok {
class Tokenizer;
}

namespace bf::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct CheckpointContents {
  const torch::nn::Module* model = nullptr;
  const model::BertConfig* model_config = nullptr;
  const tok::Tokenizer* tokenizer = nullptr;
  NamedTensors optimizer_tensors;
  nlohmann::json optimizer_state;
  NamedTensors rng_tensors;
  nlohmann::json trainer_state;  // step, data cursor, counters, metrics so far
  std::string run_config_yaml;
  std::string keep;  // a checkpoint name that pruning keeps besides the last ones (the best), or ""
};

// A checkpoint read for resuming: each file of its manifest opened (mapped)
// once, its size and checksum verified on that mapping, and everything the
// resume needs parsed from the same mappings, so a resumed run reads each
// checkpoint file once.
struct LoadedCheckpoint {
  std::string dir;  // also an HF model directory
  nlohmann::json trainer_state;
  std::map<std::string, torch::Tensor> optimizer_tensors;
  nlohmann::json optimizer_state;
  std::map<std::string, torch::Tensor> rng_tensors;
  std::string run_config_yaml;
  std::map<std::string, std::shared_ptr<const bf::MappedFile>> files;  // by file name

  // config.json, checked against the weights' size.
  model::BertConfig model_config() const;
  // Copies model.safetensors into the model; fails naming the checkpoint
  // when a parameter is missing.
  void load_weights_into(torch::nn::Module& model) const;
};

class CheckpointWriter {
 public:
  CheckpointWriter(std::string checkpoints_dir, std::int64_t keep_last);
  // Returns the final directory. Throws bf::Error (disk full, permissions)
  // with the previous checkpoints intact.
  std::string write(std::int64_t step, const CheckpointContents& contents);
  const std::string& dir() const { return dir_; }

 private:
  void prune(const std::string& keep);

  std::string dir_;
  std::int64_t keep_last_;
};

// Verifies the manifest (every file present, same size and hash) and reads
// the trainer files. Errors name the checkpoint and the file.
LoadedCheckpoint read_checkpoint(const std::string& dir);

// The newest complete checkpoint under a run directory (or a checkpoints
// directory); empty when there is none.
std::string find_latest_checkpoint(const std::string& run_or_checkpoints_dir);

std::string checkpoint_name(std::int64_t step);

}  // namespace bf::train
