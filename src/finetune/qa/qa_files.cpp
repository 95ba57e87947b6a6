#include "finetune/qa/qa_files.h"

#include <filesystem>
#include <iostream>

#include "util/fs.h"

namespace bf::ft::qa {
namespace fs = std::filesystem;

ModelEvaluation evaluate_questions(infer::Model& model, const SquadData& data, const QaFeatureSet& features,
                                   const QaSettings& settings, const std::string& path, std::int64_t batch_size) {
  const auto predictions = answer(model, data, features, settings, batch_size);
  const auto score = score_predictions(data.examples, predictions_json(predictions), settings.metric);
  ModelEvaluation e{qa_report(score, data, features), ""};
  e.report["file"] = path;
  return e;
}

ModelEvaluation evaluate_model(infer::Model& model, const std::string& path, const InputSettings& settings) {
  const auto saved = QaSettings::from_json(model.data_settings());
  const auto data = read_squad(path, /*training=*/false);
  const auto features = build_features(data.examples, model.tokenizer(), saved.features, /*training=*/false);
  return evaluate_questions(model, data, features, saved, path, settings.batch_size);
}

PredictSummary predict_model(infer::Model& model, const std::string& input, const std::string& output,
                             const InputSettings& settings) {
  const auto run = answer_file(model, input, settings.batch_size);
  const auto answers = predictions_json(run.predictions).dump(2) + "\n";
  if (output == "-") {
    std::cout << answers;
  } else {
    bf::write_file_atomic(output, answers);
    const auto nbest = fs::path(output).parent_path() / "nbest_predictions.json";
    bf::write_file_atomic(nbest.string(), nbest_json(run.predictions).dump(2) + "\n");
  }
  return {static_cast<std::int64_t>(run.predictions.size()), 0};
}

}  // namespace bf::ft::qa
