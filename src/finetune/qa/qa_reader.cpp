#include "finetune/qa/qa_reader.h"

#include <algorithm>

#include "infer/batches.h"
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
  infer::store_data_settings(config, {{"task", "question_answering"},
                                      {"max_seq_length", features.max_seq_length},
                                      {"doc_stride", features.doc_stride},
                                      {"max_query_length", features.max_query_length},
                                      {"n_best_size", decode.n_best_size},
                                      {"max_answer_length", decode.max_answer_length},
                                      {"version_2_with_negative", decode.version_2_with_negative},
                                      {"null_score_diff_threshold", decode.null_score_diff_threshold},
                                      {"qa_metric", qa_metric_name(metric)}});
}

QaSettings QaSettings::from_json(const nlohmann::json& saved) {
  QaSettings s;
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

SpanLogits predict_spans(infer::Model& model, const std::vector<QaFeature>& features,
                         const std::vector<std::int64_t>& which, std::int64_t batch_size) {
  SpanLogits out;
  out.start.resize(which.size());
  out.end.resize(which.size());
  std::vector<infer::Sequence> sequences;
  for (auto i : which) {
    const auto& f = features[static_cast<std::size_t>(i)];
    sequences.push_back({&f.input_ids, &f.token_type_ids});
  }
  infer::run(model, sequences, {batch_size}, [&](const infer::PaddedBatch& b, const infer::Outputs& result) {
    auto start = result.start_logits.to(torch::kCPU, torch::kFloat32).contiguous();
    auto end = result.end_logits.to(torch::kCPU, torch::kFloat32).contiguous();
    for (std::size_t r = 0; r < b.index.size(); ++r) {
      const auto local = static_cast<std::size_t>(b.index[r]);
      const auto n = features[static_cast<std::size_t>(which[local])].size();
      const auto row = static_cast<std::int64_t>(r);
      const float* s = start[row].data_ptr<float>();
      const float* e = end[row].data_ptr<float>();
      out.start[local].assign(s, s + n);
      out.end[local].assign(e, e + n);
    }
  });
  return out;
}

std::vector<QaPrediction> answer(infer::Model& model, const SquadData& data, const QaFeatureSet& features,
                                 const QaSettings& settings, std::int64_t batch_size) {
  std::vector<std::int64_t> all(features.features.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  const auto logits = predict_spans(model, features.features, all, batch_size);
  auto decode = settings.decode;
  decode.version_2_with_negative = decode.version_2_with_negative || data.has_impossible;
  return decode_predictions(data.examples, features.features, logits.start, logits.end, decode);
}

QaRun answer_file(infer::Model& model, const std::string& path, std::int64_t batch_size) {
  const auto settings = QaSettings::from_json(model.data_settings());
  QaRun run;
  run.data = read_squad(path, /*training=*/false);
  run.features = build_features(run.data.examples, model.tokenizer(), settings.features, /*training=*/false);
  run.predictions = answer(model, run.data, run.features, settings, batch_size);
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
