#include "finetune/inference.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "finetune/row_writer.h"
#include "util/error.h"

namespace bf::ft {
namespace {

std::string prediction_text(const LoadedClassifier& c, const Decision& d) {
  if (c.task == TaskType::Regression) return fmt::format("{:.6g}", d.value);
  if (c.task == TaskType::SingleLabel) return c.labels.name(d.label);
  std::string out;
  for (auto id : d.label_ids) out += (out.empty() ? "" : ",") + c.labels.name(id);
  return out;
}

nlohmann::json prediction_json(const LoadedClassifier& c, const Decision& d) {
  if (c.task == TaskType::Regression) return d.value;
  if (c.task == TaskType::SingleLabel) return c.labels.name(d.label);
  nlohmann::json out = nlohmann::json::array();
  for (auto id : d.label_ids) out.push_back(c.labels.name(id));
  return out;
}

}  // namespace

void store_data_settings(model::BertConfig& config, const ReadOptions& options) {
  if (!config.extra.is_object()) config.extra = nlohmann::json::object();
  config.extra["bertforge_data"] = {{"text_column", options.columns.text},
                                    {"text_pair_column", options.columns.text_pair},
                                    {"label_column", options.columns.label},
                                    {"label_separator", options.label_separator},
                                    {"max_seq_length", options.max_seq_length}};
  // Only a headerless file's settings, so older model directories read the same.
  if (!options.columns.names.empty()) config.extra["bertforge_data"]["columns"] = options.columns.names;
  if (!options.columns.has_header) config.extra["bertforge_data"]["has_header"] = false;
}

ReadOptions read_options_for(const model::BertConfig& config, const InputSettings& s, const std::string& path) {
  ReadOptions o;
  const auto saved = config.extra.is_object() && config.extra.contains("bertforge_data") ? config.extra["bertforge_data"]
                                                                                          : nlohmann::json::object();
  o.format = s.format;
  o.columns.text = !s.text_column.empty() ? s.text_column : saved.value("text_column", std::string("text"));
  o.columns.names = saved.value("columns", std::vector<std::string>());
  o.columns.has_header = saved.value("has_header", true);
  o.columns.text_pair = !s.text_pair_column.empty() ? s.text_pair_column : saved.value("text_pair_column", std::string());
  o.columns.label = !s.label_column.empty() ? s.label_column : saved.value("label_column", std::string("label"));
  o.label_separator = saved.value("label_separator", std::string(","));
  o.max_seq_length = s.max_seq_length > 0 ? s.max_seq_length : saved.value("max_seq_length", std::int64_t{128});
  o.max_seq_length = std::min(o.max_seq_length, config.max_position_embeddings);
  o.task = task_of(config);
  o.skip_bad_rows = s.skip_bad_rows;
  // Plain text has one text per line: no pair, no label.
  if (parse_format(o.format, path) == FileFormat::Text) o.columns.text_pair.clear();
  return o;
}

EvalResult evaluate_file(LoadedClassifier& c, const std::string& path, const InputSettings& settings,
                         torch::Device device) {
  const auto options = read_options_for(c.config, settings, path);
  const auto data = load_dataset(path, options, *c.tokenizer, c.labels);
  auto result = evaluate_model(c.model, data, c.labels, settings.batch_size, c.pad_id, device);
  result.report["file"] = path;
  result.report["skipped_rows"] = data.skipped;
  return result;
}

PredictSummary predict_file(LoadedClassifier& c, const std::string& input, const std::string& output,
                            const InputSettings& settings, torch::Device device, std::int64_t chunk_rows) {
  auto options = read_options_for(c.config, settings, input);
  options.columns.label.clear();  // labels, when present, pass through untouched
  options.columns.label_required = false;
  RowReader reader(input, parse_format(options.format, input), options.columns);
  const auto format = reader.format() == FileFormat::Text ? FileFormat::Tsv : reader.format();
  OutputFile out(output);
  if (format != FileFormat::Jsonl) {
    std::vector<std::string> header = reader.format() == FileFormat::Text ? std::vector<std::string>{"text"} : reader.header();
    header.push_back("prediction");
    if (c.task != TaskType::Regression)
      for (const auto& name : c.labels.names()) header.push_back("prob_" + name);
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
    const auto data = make_dataset(input, rows, options, *c.tokenizer, c.labels, policy, /*labels_required=*/false);
    const auto logits = predict_logits(c.model, data, settings.batch_size, c.pad_id, device);
    std::string text;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto d = decide(c.task, logits[static_cast<std::int64_t>(i)]);
      if (format == FileFormat::Jsonl) {
        auto object = rows[i].object;
        object["prediction"] = prediction_json(c, d);
        if (c.task != TaskType::Regression) {
          nlohmann::json probs = nlohmann::json::object();
          for (std::size_t k = 0; k < d.probabilities.size(); ++k)
            probs[c.labels.name(static_cast<std::int64_t>(k))] = std::round(d.probabilities[k] * 1e6) / 1e6;
          object["probabilities"] = probs;
        }
        text += object.dump() + "\n";
      } else {
        auto fields = reader.format() == FileFormat::Text ? std::vector<std::string>{rows[i].text} : rows[i].fields;
        fields.push_back(prediction_text(c, d));
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

}  // namespace bf::ft
