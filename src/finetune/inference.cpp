#include "finetune/inference.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "finetune/batch_plan.h"
#include "io/hf_model.h"
#include "io/safetensors.h"
#include "model/classifier_heads.h"
#include "util/error.h"

namespace bf::ft {
namespace {

// TSV has no quoting: a tab or newline inside a field would break the row.
std::string tsv_field(std::string s) {
  for (auto& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string join_row(const std::vector<std::string>& fields, FileFormat format) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += format == FileFormat::Csv ? "," : "\t";
    line += format == FileFormat::Csv ? csv_field(fields[i]) : tsv_field(fields[i]);
  }
  return line + "\n";
}

// An output stream that is stdout for "-".
class Output {
 public:
  explicit Output(const std::string& path) {
    file_ = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
    if (!file_) bf::fail(path + ": cannot write: " + std::strerror(errno));
    path_ = path;
  }
  ~Output() {
    if (file_ && file_ != stdout) std::fclose(file_);
  }
  void write(const std::string& s) {
    if (std::fwrite(s.data(), 1, s.size(), file_) != s.size()) bf::fail(path_ + ": write failed");
  }
  void flush() { std::fflush(file_); }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

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
  Output out(output);
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

namespace {

// [B, S, H] states of one hidden layer -> [B, H] by the pooling rule.
torch::Tensor pool_states(const std::string& pooling, const torch::Tensor& states, const torch::Tensor& mask,
                          model::BertModel& bert) {
  if (pooling == "cls") return states.select(1, 0);
  if (pooling == "mean") return model::masked_mean(states, mask);
  return bert->pooler->forward(states);
}

}  // namespace

EmbedSummary embed_file(const std::string& model_dir, const std::string& input, const std::string& output,
                        const InputSettings& settings, const EmbedOptions& options, torch::Device device) {
  if (options.pooling != "cls" && options.pooling != "mean" && options.pooling != "pooler" && options.pooling != "none")
    bf::fail("--pooling must be cls, mean, pooler or none");
  const auto config = io::load_model_config(model_dir);
  auto tokenizer = io::load_model_tokenizer(model_dir, config);
  model::BertModel bert(config, /*add_pooling_layer=*/true);
  const auto report = io::load_weights(*bert, io::find_weights_file(model_dir));
  for (const auto& name : report.missing) {
    const bool pooler = name.rfind("pooler.", 0) == 0;
    if (!pooler || options.pooling == "pooler")
      bf::fail(model_dir + ": the encoder weights are incomplete (missing " + name + ")" +
               (pooler ? "; this model has no trained pooler: use --pooling cls or mean" : ""));
  }
  const auto states_count = config.num_hidden_layers + 1;
  const auto layer_index = options.layer < 0 ? states_count + options.layer : options.layer;
  if (layer_index < 0 || layer_index >= states_count)
    bf::fail("--layer " + std::to_string(options.layer) + " is out of range (0.." + std::to_string(states_count - 1) + ")");
  if (options.pooling == "pooler" && (options.all_layers || layer_index != states_count - 1))
    bf::fail("--pooling pooler works on the last layer only (the pooler was trained on it)");
  bert->to(device);
  bert->eval();

  auto read = read_options_for(config, settings, input);
  read.columns.label.clear();
  read.columns.label_required = false;
  BadRowPolicy policy(settings.skip_bad_rows);
  const auto rows = read_rows(input, read, policy);
  const auto data = make_dataset(input, rows, read, *tokenizer, LabelMap(), policy, false);
  const auto n = data.size();
  const auto pad = tokenizer->special_ids().pad;
  const bool tokens = options.pooling == "none";

  // Per row: [H] or [L+1, H] (pooled), [S, H] or [S, L+1, H] (tokens).
  std::vector<torch::Tensor> per_row(static_cast<std::size_t>(n));
  c10::InferenceMode inference;  // no autograd records, no version counters
  for (const auto& index : plan_by_length(data.lengths(), settings.batch_size)) {
    auto batch = collate(data, index, pad);
    auto mask = batch.attention_mask.to(device);
    auto out = bert->forward(batch.input_ids.to(device), batch.token_type_ids.to(device), mask, true);
    std::vector<torch::Tensor> chosen;
    if (options.all_layers) {
      chosen = out.hidden_states;
    } else {
      chosen = {out.hidden_states.at(static_cast<std::size_t>(layer_index))};
    }
    torch::Tensor result;  // [B, S, K, H] tokens or [B, K, H] pooled
    if (tokens) {
      result = torch::stack(chosen, 2);
    } else {
      std::vector<torch::Tensor> pooled;
      for (const auto& states : chosen) pooled.push_back(pool_states(options.pooling, states, mask, bert));
      result = torch::stack(pooled, 1);
    }
    result = result.to(torch::kCPU, torch::kFloat32);
    for (std::size_t b = 0; b < index.size(); ++b) {
      auto r = result[static_cast<std::int64_t>(b)];
      if (tokens) r = r.narrow(0, 0, static_cast<std::int64_t>(data.examples[static_cast<std::size_t>(index[b])].input_ids.size()));
      if (!options.all_layers) r = r.select(tokens ? 1 : 0, 0);
      per_row[static_cast<std::size_t>(index[b])] = r.contiguous();
    }
  }

  auto format = options.output_format;
  if (format == "auto") {
    const bool st = output.size() > 12 && output.compare(output.size() - 12, 12, ".safetensors") == 0;
    format = st ? "safetensors" : "jsonl";
  }
  EmbedSummary summary;
  summary.rows = n;
  if (format == "safetensors") {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    if (tokens) {
      std::vector<std::int64_t> offsets{0};
      std::vector<std::int64_t> ids;
      for (const auto& e : data.examples) {
        offsets.push_back(offsets.back() + static_cast<std::int64_t>(e.input_ids.size()));
        ids.insert(ids.end(), e.input_ids.begin(), e.input_ids.end());
      }
      auto states = torch::cat(per_row, 0);
      summary.shape = states.sizes().vec();
      tensors = {{"states", states}, {"offsets", torch::tensor(offsets, torch::kLong)}, {"input_ids", torch::tensor(ids, torch::kLong)}};
    } else {
      auto embeddings = torch::stack(per_row, 0);
      summary.shape = embeddings.sizes().vec();
      tensors = {{"embeddings", embeddings}};
    }
    io::save_safetensors(output, tensors,
                         {{"pooling", options.pooling},
                          {"layer", options.all_layers ? "all" : std::to_string(layer_index)},
                          {"model", model_dir}});
    return summary;
  }
  if (format != "jsonl") bf::fail("embed output format must be safetensors or jsonl");
  Output out(output);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& row = rows[static_cast<std::size_t>(i)];
    nlohmann::json j = {{"line", row.line}, {"text", row.text}};
    if (row.text_pair) j["text_pair"] = *row.text_pair;
    const auto& r = per_row[static_cast<std::size_t>(i)];
    auto values = r.to(torch::kFloat64);
    auto nested = [](const torch::Tensor& t) {
      // A [H] or [K, H] or [S, K, H] tensor as nested JSON lists.
      std::function<nlohmann::json(const torch::Tensor&)> go = [&](const torch::Tensor& x) -> nlohmann::json {
        if (x.dim() == 1) {
          auto c = x.contiguous();
          return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
        }
        nlohmann::json a = nlohmann::json::array();
        for (std::int64_t k = 0; k < x.size(0); ++k) a.push_back(go(x[k]));
        return a;
      };
      return go(t);
    };
    if (tokens) {
      std::vector<std::string> pieces;
      for (auto id : data.examples[static_cast<std::size_t>(i)].input_ids) pieces.push_back(tokenizer->id_to_token(id));
      j["tokens"] = pieces;
      j["states"] = nested(values);
    } else {
      j[options.all_layers ? "layers" : "embedding"] = nested(values);
    }
    out.write(j.dump() + "\n");
  }
  return summary;
}

}  // namespace bf::ft
