#include "finetune/qa/qa_reader.h"

#include <algorithm>

#include "finetune/batch_plan.h"
#include "io/hf_model.h"
#include "model/any_bert.h"
#include "util/error.h"

namespace bf::ft::qa {

FeatureBatch collate_features(const std::vector<QaFeature>& features, const std::vector<std::int64_t>& index,
                              std::int32_t pad_id) {
  std::int64_t longest = 0;
  for (auto i : index) longest = std::max<std::int64_t>(longest, features[static_cast<std::size_t>(i)].size());
  const auto n = static_cast<std::int64_t>(index.size());
  auto ids = torch::full({n, longest}, static_cast<std::int64_t>(pad_id), torch::kLong);
  auto types = torch::zeros({n, longest}, torch::kLong);
  auto mask = torch::zeros({n, longest}, torch::kLong);
  auto starts = torch::zeros({n}, torch::kLong);
  auto ends = torch::zeros({n}, torch::kLong);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto types_a = types.accessor<std::int64_t, 2>();
  auto mask_a = mask.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < n; ++r) {
    const auto& f = features[static_cast<std::size_t>(index[static_cast<std::size_t>(r)])];
    for (int p = 0; p < f.size(); ++p) {
      const auto i = static_cast<std::size_t>(p);
      ids_a[r][p] = f.input_ids[i];
      types_a[r][p] = f.token_type_ids[i];
      mask_a[r][p] = f.attention_mask[i];
    }
    starts[r] = f.start_position;
    ends[r] = f.end_position;
  }
  return {ids, types, mask, starts, ends};
}

void QaSettings::store_in(model::BertConfig& config) const {
  if (!config.extra.is_object()) config.extra = nlohmann::json::object();
  config.extra["bertforge_data"] = {{"task", "question_answering"},
                                    {"max_seq_length", features.max_seq_length},
                                    {"doc_stride", features.doc_stride},
                                    {"max_query_length", features.max_query_length},
                                    {"n_best_size", decode.n_best_size},
                                    {"max_answer_length", decode.max_answer_length},
                                    {"version_2_with_negative", decode.version_2_with_negative},
                                    {"null_score_diff_threshold", decode.null_score_diff_threshold},
                                    {"qa_metric", qa_metric_name(metric)}};
}

QaSettings QaSettings::of(const model::BertConfig& config) {
  QaSettings s;
  const auto saved = config.extra.is_object() && config.extra.contains("bertforge_data") ? config.extra["bertforge_data"]
                                                                                          : nlohmann::json::object();
  try {
    s.features.max_seq_length = saved.value("max_seq_length", s.features.max_seq_length);
    s.features.doc_stride = saved.value("doc_stride", s.features.doc_stride);
    s.features.max_query_length = saved.value("max_query_length", s.features.max_query_length);
    s.decode.n_best_size = saved.value("n_best_size", s.decode.n_best_size);
    s.decode.max_answer_length = saved.value("max_answer_length", s.decode.max_answer_length);
    s.decode.version_2_with_negative = saved.value("version_2_with_negative", false);
    s.decode.null_score_diff_threshold = saved.value("null_score_diff_threshold", 0.0);
    s.metric = parse_qa_metric(saved.value("qa_metric", std::string("auto")));
  } catch (const nlohmann::json::exception& e) {
    bf::fail(std::string("config.json: bertforge_data: ") + e.what());
  }
  return s;
}

SpanLogits predict_spans(model::BertForQuestionAnswering& model, const std::vector<QaFeature>& features,
                         const std::vector<std::int64_t>& which, std::int64_t batch_size, std::int32_t pad_id,
                         torch::Device device) {
  SpanLogits out;
  out.start.resize(which.size());
  out.end.resize(which.size());
  std::vector<std::int64_t> lengths;
  for (auto i : which) lengths.push_back(features[static_cast<std::size_t>(i)].size());
  for (const auto& local : plan_by_length(lengths, batch_size)) {
    std::vector<std::int64_t> index;
    for (auto k : local) index.push_back(which[static_cast<std::size_t>(k)]);
    const auto b = collate_features(features, index, pad_id);
    auto result = model->forward(b.input_ids.to(device), b.token_type_ids.to(device), b.attention_mask.to(device));
    auto start = result.start_logits.to(torch::kCPU, torch::kFloat32).contiguous();
    auto end = result.end_logits.to(torch::kCPU, torch::kFloat32).contiguous();
    for (std::size_t r = 0; r < local.size(); ++r) {
      const auto n = features[static_cast<std::size_t>(index[r])].size();
      const auto row = static_cast<std::int64_t>(r);
      const float* s = start[row].data_ptr<float>();
      const float* e = end[row].data_ptr<float>();
      out.start[static_cast<std::size_t>(local[r])].assign(s, s + n);
      out.end[static_cast<std::size_t>(local[r])].assign(e, e + n);
    }
  }
  return out;
}

LoadedReader load_reader(const std::string& dir, torch::Device device) {
  LoadedReader r;
  r.dir = dir;
  r.config = io::load_model_config(dir);
  if (model::architecture_of(r.config) != model::Architecture::QuestionAnswering)
    bf::fail(dir + ": not a question-answering model (config.json architectures: BertForQuestionAnswering expected)");
  r.tokenizer = io::load_model_tokenizer(dir, r.config);
  r.settings = QaSettings::of(r.config);
  r.model = model::BertForQuestionAnswering(r.config);
  const auto report = io::load_weights(*r.model, io::find_weights_file(dir));
  if (!report.missing.empty()) bf::fail(dir + ": weights do not match the model: " + report.summary());
  r.model->to(device);
  r.model->eval();
  return r;
}

QaRun answer_file(LoadedReader& reader, const std::string& path, std::int64_t batch_size, torch::Device device) {
  QaRun run;
  run.data = read_squad(path, /*training=*/false);
  run.features = build_features(run.data.examples, *reader.tokenizer, reader.settings.features, /*training=*/false);
  std::vector<std::int64_t> all(run.features.features.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  c10::InferenceMode inference;
  const auto logits = predict_spans(reader.model, run.features.features, all, batch_size,
                                    reader.tokenizer->special_ids().pad, device);
  auto decode = reader.settings.decode;
  decode.version_2_with_negative = decode.version_2_with_negative || run.data.has_impossible;
  run.predictions = decode_predictions(run.data.examples, run.features.features, logits.start, logits.end, decode);
  return run;
}

nlohmann::json qa_report(const QaScore& score, const SquadData& data, const QaFeatureSet& features) {
  auto report = score.to_json();
  report["examples"] = static_cast<std::int64_t>(data.examples.size());
  report["read"] = data.stats.to_json();
  report["windows"] = features.stats.to_json();
  return report;
}

}  // namespace bf::ft::qa
