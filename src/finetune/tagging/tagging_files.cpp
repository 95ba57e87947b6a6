#include "finetune/tagging/tagging_files.h"

#include <iostream>
#include <sstream>

#include "finetune/tagging/entity_metrics.h"
#include "finetune/tagging/tagged_writer.h"
#include "util/fs.h"

namespace bf::ft::tagging {
namespace {

TaggedData read_for(const TaggingSettings& saved, const std::string& path, const InputSettings& settings,
                    bool labels_required) {
  TaggedReadOptions o;
  o.format = settings.format != "auto" ? settings.format : saved.format;
  if (o.format != "conll" && o.format != "jsonl") o.format = "auto";
  o.scheme = saved.scheme;
  o.labels_required = labels_required;
  o.skip_bad_rows = settings.skip_bad_rows;
  return read_tagged(path, o);
}

}  // namespace

ModelEvaluation evaluate_sentences(infer::Model& model, const TaggedData& data, const WindowedSentences& windowed,
                                   const std::string& path, std::int64_t batch_size) {
  const auto predicted = predict_tags(model, windowed, data.sentences, batch_size);
  EntityCounter counter;
  for (std::size_t s = 0; s < data.sentences.size(); ++s) counter.add(data.sentences[s].tags, predicted[s]);
  const auto scores = counter.scores();
  ModelEvaluation e{scores.to_json(), scores.table()};
  e.report["file"] = path;
  e.report["examples"] = static_cast<std::int64_t>(data.sentences.size());
  e.report["skipped_rows"] = data.skipped;
  return e;
}

ModelEvaluation evaluate_model(infer::Model& model, const std::string& path, const InputSettings& settings) {
  const auto saved = TaggingSettings::from_json(model.data_settings());
  const auto data = read_for(saved, path, settings, /*labels_required=*/true);
  const auto windowed = window_sentences(data.sentences, model.tokenizer(), saved.windows, nullptr);
  return evaluate_sentences(model, data, windowed, path, settings.batch_size);
}

PredictSummary predict_model(infer::Model& model, const std::string& input, const std::string& output,
                             const InputSettings& settings) {
  const auto saved = TaggingSettings::from_json(model.data_settings());
  const auto data = read_for(saved, input, settings, /*labels_required=*/false);
  const auto windowed = window_sentences(data.sentences, model.tokenizer(), saved.windows, nullptr);
  const auto predicted = predict_tags(model, windowed, data.sentences, settings.batch_size);
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

}  // namespace bf::ft::tagging
