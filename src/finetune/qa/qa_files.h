#pragma once
// An extractive-QA model on files: evaluate on a SQuAD-layout file (the
// official metrics), predict ({id: answer}, and the n-best lists beside it).
#include <string>

#include "finetune/qa/qa_reader.h"
#include "finetune/tasks.h"
#include "infer/model.h"

namespace bf::ft::qa {

// The report of `model` on questions already read and windowed (a fine-tuning
// run's dev set); `path` names them in the report.
ModelEvaluation evaluate_questions(infer::Model& model, const SquadData& data, const QaFeatureSet& features,
                                   const QaSettings& settings, const std::string& path, std::int64_t batch_size);

// The task table's entries (finetune/tasks.h).
ModelEvaluation evaluate_model(infer::Model& model, const std::string& path, const InputSettings& settings);
PredictSummary predict_model(infer::Model& model, const std::string& input, const std::string& output,
                             const InputSettings& settings);

}  // namespace bf::ft::qa
