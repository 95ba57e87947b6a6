#pragma once
// A sequence classifier on files: the data settings a run stores in
// config.json and evaluate and predict read back, evaluate on a labelled
// file, and predict, streamed in chunks so that it can sit in a shell
// pipeline.
#include <cstdint>
#include <string>

#include "finetune/classify/dataset.h"
#include "finetune/classify/evaluation.h"
#include "finetune/tasks.h"
#include "infer/model.h"
#include "model/bert_config.h"

namespace bf::ft::classify {

// How a run read its data: the columns and max_seq_length.
void store_data_settings(model::BertConfig& config, const ReadOptions& options);
// How `model` reads `path`: as its run did, the settings' flags overriding.
ReadOptions read_options_for(const infer::Model& model, const InputSettings& settings, const std::string& path);

EvalResult evaluate_file(infer::Model& model, const std::string& path, const InputSettings& settings);
// The same report on examples already read (a fine-tuning run's dev set).
EvalResult evaluate_examples(infer::Model& model, const Dataset& data, std::int64_t batch_size);

// Writes one output row per input row, in input order: TSV/CSV keep the
// input's columns and add prediction and prob_<label> columns; JSONL adds
// "prediction" and "probabilities" to each object; text input gives TSV.
// input and output may be "-" (stdin, stdout).
PredictSummary predict_file(infer::Model& model, const std::string& input, const std::string& output,
                            const InputSettings& settings, std::int64_t chunk_rows = 2048);

// The task table's entries (finetune/tasks.h).
ModelEvaluation evaluate_model(infer::Model& model, const std::string& path, const InputSettings& settings);
PredictSummary predict_model(infer::Model& model, const std::string& input, const std::string& output,
                             const InputSettings& settings);

}  // namespace bf::ft::classify
