#include "finetune/any_model.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "finetune/classifier.h"
#include "finetune/metrics.h"
#include "finetune/qa/qa_reader.h"
#include "finetune/tagging/entity_metrics.h"
#include "finetune/tagging/tagged_writer.h"
#include "finetune/tagging/tagger.h"
#include "io/hf_model.h"
#include "model/any_bert.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::ft {
namespace fs = std::filesystem;
namespace {

TaggedData read_for_tagger(const LoadedTagger& tagger, const std::string& path, const InputSettings& settings,
                           bool labels_required) {
  TaggedReadOptions o;
  o.format = settings.format != "auto" ? settings.format : tagger.settings.format;
  if (o.format != "conll" && o.format != "jsonl") o.format = "auto";
  o.scheme = tagger.settings.scheme;
  o.labels_required = labels_required;
  o.skip_bad_rows = settings.skip_bad_rows;
  return read_tagged(path, o);
}

ModelEvaluation evaluate_tagger(const std::string& dir, const std::string& path, const InputSettings& settings,
                                torch::Device device) {
  auto tagger = load_tagger(dir, device);
  const auto data = read_for_tagger(tagger, path, settings, /*labels_required=*/true);
  const auto predicted = predict_tags(tagger, data.sentences, settings.batch_size, device);
  EntityCounter counter;
  for (std::size_t s = 0; s < data.sentences.size(); ++s) counter.add(data.sentences[s].tags, predicted[s]);
  const auto scores = counter.scores();
  ModelEvaluation e{scores.to_json(), scores.table()};
  e.report["file"] = path;
  e.report["examples"] = static_cast<std::int64_t>(data.sentences.size());
  e.report["skipped_rows"] = data.skipped;
  return e;
}

ModelEvaluation evaluate_reader(const std::string& dir, const std::string& path, const InputSettings& settings,
                                torch::Device device) {
  auto reader = qa::load_reader(dir, device);
  const auto run = qa::answer_file(reader, path, settings.batch_size, device);
  const auto score = qa::score_predictions(run.data.examples, qa::predictions_json(run.predictions), reader.settings.metric);
  ModelEvaluation e{qa::qa_report(score, run.data, run.features), ""};
  e.report["file"] = path;
  return e;
}

PredictSummary predict_tagger(const std::string& dir, const std::string& input, const std::string& output,
                              const InputSettings& settings, torch::Device device) {
  auto tagger = load_tagger(dir, device);
  const auto data = read_for_tagger(tagger, input, settings, /*labels_required=*/false);
  const auto predicted = predict_tags(tagger, data.sentences, settings.batch_size, device);
  if (output == "-") {
    write_predictions(std::cout, data, predicted);
    std::cout.flush();
  } else {
    std::ostringstream out;
    write_predictions(out, data, predicted);
    bf::write_file_atomic(output, out.str());
  }
  return {static_cast<std::int64_t>(data.sentences.size()), data.skipped};
}

PredictSummary predict_reader(const std::string& dir, const std::string& input, const std::string& output,
                              const InputSettings& settings, torch::Device device) {
  auto reader = qa::load_reader(dir, device);
  const auto run = qa::answer_file(reader, input, settings.batch_size, device);
  const auto answers = qa::predictions_json(run.predictions).dump(2) + "\n";
  if (output == "-") {
    std::cout << answers;
  } else {
    bf::write_file_atomic(output, answers);
    const auto nbest = fs::path(output).parent_path() / "nbest_predictions.json";
    bf::write_file_atomic(nbest.string(), qa::nbest_json(run.predictions).dump(2) + "\n");
  }
  return {static_cast<std::int64_t>(run.predictions.size()), 0};
}

}  // namespace

ModelEvaluation evaluate_model_dir(const std::string& model_dir, const std::string& data, const InputSettings& settings,
                                   torch::Device device) {
  switch (model::architecture_of(io::load_model_config(model_dir))) {
    case model::Architecture::TokenClassification: return evaluate_tagger(model_dir, data, settings, device);
    case model::Architecture::QuestionAnswering: return evaluate_reader(model_dir, data, settings, device);
    default: break;
  }
  auto classifier = load_classifier(model_dir, device);
  const auto result = evaluate_file(classifier, data, settings, device);
  return {result.report, format_report(result.report)};
}

PredictSummary predict_model_dir(const std::string& model_dir, const std::string& input, const std::string& output,
                                 const InputSettings& settings, torch::Device device) {
  switch (model::architecture_of(io::load_model_config(model_dir))) {
    case model::Architecture::TokenClassification: return predict_tagger(model_dir, input, output, settings, device);
    case model::Architecture::QuestionAnswering: return predict_reader(model_dir, input, output, settings, device);
    default: break;
  }
  auto classifier = load_classifier(model_dir, device);
  return predict_file(classifier, input, output, settings, device);
}

}  // namespace bf::ft
