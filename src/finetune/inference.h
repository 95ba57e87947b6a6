#pragma once
// Using a fine-tuned classifier: evaluate on a labelled file, predict labels
// for new text (streamed in chunks, so it can sit in a shell pipeline).
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "finetune/classifier.h"
#include "finetune/evaluation.h"

namespace bf::ft {

// How a model reads its files: the training columns and max_seq_length, saved
// in config.json ("bertforge_data") by finetune; flags override them.
struct InputSettings {
  std::string format = "auto";
  std::string text_column;       // empty: as trained (default "text")
  std::string text_pair_column;  // empty: as trained
  std::string label_column;      // empty: as trained (default "label")
  std::int64_t max_seq_length = 0;  // 0: as trained (default 128)
  std::int64_t batch_size = 64;
  bool skip_bad_rows = false;
};

// Stores the data settings of a run in a model config.
void store_data_settings(model::BertConfig& config, const ReadOptions& options);
ReadOptions read_options_for(const model::BertConfig& config, const InputSettings& settings, const std::string& path);

EvalResult evaluate_file(LoadedClassifier& classifier, const std::string& path, const InputSettings& settings,
                         torch::Device device);

struct PredictSummary {
  std::int64_t rows = 0;
  std::int64_t skipped = 0;
};

// Writes one output row per input row, in input order: TSV/CSV keep the
// input's columns and add prediction and prob_<label> columns; JSONL adds
// "prediction" and "probabilities" to each object; text input gives TSV.
// input and output may be "-" (stdin, stdout).
PredictSummary predict_file(LoadedClassifier& classifier, const std::string& input, const std::string& output,
                            const InputSettings& settings, torch::Device device, std::int64_t chunk_rows = 2048);

}  // namespace bf::ft
