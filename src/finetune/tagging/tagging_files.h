#pragma once
// A token-classification model on files: evaluate on a tagged file (entity
// F1 with conlleval's rules), predict (the input with a predicted-tag column,
// or JSON objects with predicted_tags and entities).
#include <string>

#include "finetune/tagging/tagged_reader.h"
#include "finetune/tagging/tagger.h"
#include "finetune/tasks.h"
#include "infer/model.h"

namespace bf::ft::tagging {

// The report of `model` on sentences already read and windowed (a
// fine-tuning run's dev set); `path` names them in the report.
ModelEvaluation evaluate_sentences(infer::Model& model, const TaggedData& data, const WindowedSentences& windowed,
                                   const std::string& path, std::int64_t batch_size);

// The task table's entries (finetune/tasks.h).
ModelEvaluation evaluate_model(infer::Model& model, const std::string& path, const InputSettings& settings);
PredictSummary predict_model(infer::Model& model, const std::string& input, const std::string& output,
                             const InputSettings& settings);

}  // namespace bf::ft::tagging
