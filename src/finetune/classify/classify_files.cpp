#include "finetune/classify/classify_files.h"

#include <fmt/format.h>

#include <cmath>

#include "finetune/classify/classifier.h"
#include "finetune/classify/metrics.h"
#include "finetune/row_writer.h"

namespace bf::ft::classify {
namespace {

struct Head {
  TaskType task;
  LabelMap labels;
};

Head head_of(const infer::Model& model) { return {task_of(model.config()), LabelMap::of(model.config())}; }

std::string prediction_text(const Head& h, const Decision& d) {
  if (h.task == TaskType::Regression) return fmt::format("{:.6g}", d.value);
  if (h.task == TaskType::SingleLabel) return h.labels.name(d.label);
  std::string out;
  for (auto id : d.label_ids) out += (out.empty() ? "" : ",") + h.labels.name(id);
  return out;
}

nlohmann::json prediction_json(const Head& h, const Decision& d) {
  if (h.task == TaskType::Regression) return d.value;
  if (h.task == TaskType::SingleLabel) return h.labels.name(d.label);
  nlohmann::json out = nlohmann::json::array();
  for (auto id : d.label_ids) out.push_back(h.labels.name(id));
  return out;
}

}  // namespace

void store_data_settings(model::BertConfig& config, const ReadOptions& options) {
  nlohmann::json settings = {{"text_column", options.columns.text},
                             {"text_pair_column", options.columns.text_pair},
                             {"label_column", options.columns.label},
                             {"label_separator", options.label_separator},
                             {"max_seq_length", options.max_seq_length}};
  // Only a headerless file's settings, so older model directories read the same.
  if (!options.columns.names.empty()) settings["columns"] = options.columns.names;
  if (!options.columns.has_header) settings["has_header"] = false;
  infer::store_data_settings(config, std::move(settings));
}

ReadOptions read_options_for(const infer::Model& model, const InputSettings& s, const std::string& path) {
  ReadOptions o;
  const auto& saved = model.data_settings();
  o.format = s.format;
  o.columns.text = !s.text_column.empty() ? s.text_column : saved.value("text_column", std::string("text"));
  o.columns.names = saved.value("columns", std::vector<std::string>());
  o.columns.has_header = saved.value("has_header", true);
  o.columns.text_pair = !s.text_pair_column.empty() ? s.text_pair_column : saved.value("text_pair_column", std::string());
  o.columns.label = !s.label_column.empty() ? s.label_column : saved.value("label_column", std::string("label"));
  o.label_separator = saved.value("label_separator", std::string(","));
  o.max_seq_length = s.max_seq_length > 0 ? s.max_seq_length : saved.value("max_seq_length", std::int64_t{128});
  o.max_seq_length = std::min(o.max_seq_length, model.config().max_position_embeddings);
  o.task = task_of(model.config());
  o.skip_bad_rows = s.skip_bad_rows;
  // Plain text has one text per line: no pair, no label.
  if (parse_format(o.format, path) == FileFormat::Text) o.columns.text_pair.clear();
  return o;
}

EvalResult evaluate_examples(infer::Model& model, const Dataset& data, std::int64_t batch_size) {
  auto result = evaluate_logits(data, predict_logits(model, data, batch_size), LabelMap::of(model.config()));
  result.report["file"] = data.path;
  result.report["skipped_rows"] = data.skipped;
  return result;
}

EvalResult evaluate_file(infer::Model& model, const std::string& path, const InputSettings& settings) {
  const auto options = read_options_for(model, settings, path);
  const auto data = load_dataset(path, options, model.tokenizer(), LabelMap::of(model.config()));
  return evaluate_examples(model, data, settings.batch_size);
}

PredictSummary predict_file(infer::Model& model, const std::string& input, const std::string& output,
                            const InputSettings& settings, std::int64_t chunk_rows) {
  const auto head = head_of(model);
  auto options = read_options_for(model, settings, input);
  options.columns.label.clear();  // labels, when present, pass through untouched
  options.columns.label_required = false;
  RowReader reader(input, parse_format(options.format, input), options.columns);
  const auto format = reader.format() == FileFormat::Text ? FileFormat::Tsv : reader.format();
  OutputFile out(output);
  if (format != FileFormat::Jsonl) {
    std::vector<std::string> header = reader.format() == FileFormat::Text ? std::vector<std::string>{"text"} : reader.header();
    header.push_back("prediction");
    if (head.task != TaskType::Regression)
      for (const auto& name : head.labels.names()) header.push_back("prob_" + name);
    out.write(join_row(header, format));
  }
  BadRowPolicy policy(options.skip_bad_rows);
  PredictSummary summary;
  std::vector<Row> rows;
  bool more = true;
  while (more) {
    rows.clear();
    Row row;
    while (static_cast<std::int64_t>(rows.size()) < chunk_rows) {
      try {
        if (!reader.next(row)) {
          more = false;
          break;
        }
        rows.push_back(std::move(row));
      } catch (const BadRow& problem) {
        policy.handle(problem);
      }
    }
    if (rows.empty()) break;
    const auto data = make_dataset(input, rows, options, model.tokenizer(), head.labels, policy, /*labels_required=*/false);
    const auto logits = predict_logits(model, data, settings.batch_size);
    std::string text;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto d = decide(head.task, logits[static_cast<std::int64_t>(i)]);
      if (format == FileFormat::Jsonl) {
        auto object = rows[i].object;
        object["prediction"] = prediction_json(head, d);
        if (head.task != TaskType::Regression) {
          nlohmann::json probs = nlohmann::json::object();
          for (std::size_t k = 0; k < d.probabilities.size(); ++k)
            probs[head.labels.name(static_cast<std::int64_t>(k))] = std::round(d.probabilities[k] * 1e6) / 1e6;
          object["probabilities"] = probs;
        }
        text += object.dump() + "\n";
      } else {
        auto fields = reader.format() == FileFormat::Text ? std::vector<std::string>{rows[i].text} : rows[i].fields;
        fields.push_back(prediction_text(head, d));
        for (double p : d.probabilities) fields.push_back(fmt::format("{:.6f}", p));
        text += join_row(fields, format);
      }
    }
    out.write(text);
    out.flush();
    summary.rows += static_cast<std::int64_t>(rows.size());
  }
  summary.skipped = policy.skipped();
  return summary;
}

ModelEvaluation evaluate_model(infer::Model& model, const std::string& path, const InputSettings& settings) {
  const auto result = evaluate_file(model, path, settings);
  return {result.report, format_report(result.report)};
}

PredictSummary predict_model(infer::Model& model, const std::string& input, const std::string& output,
                             const InputSettings& settings) {
  return predict_file(model, input, output, settings);
}

}  // namespace bf::ft::classify
