#pragma once
// An extractive-QA model at work: features (windows) through the inference
// loop, start/end logits per window, decoded into answers and scored as the
// official scripts score them. The fine-tuning task, evaluate and predict
// all go through here.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "finetune/qa/qa_decode.h"
#include "finetune/qa/qa_features.h"
#include "finetune/qa/qa_metrics.h"
#include "finetune/qa/squad_reader.h"
#include "infer/model.h"
#include "model/bert_config.h"

namespace bf::ft::qa {

struct FeatureBatch {
  torch::Tensor input_ids, token_type_ids, attention_mask;  // [B, S], S = the longest window of the batch
  torch::Tensor start_positions, end_positions;             // [B]
};
// A training batch.
FeatureBatch collate_features(const std::vector<QaFeature>& features, const std::vector<std::int64_t>& index,
                              std::int32_t pad_id);

// How a QA model reads and decodes; stored in config.json ("bertforge_data")
// so that evaluate and predict work as training did.
struct QaSettings {
  QaFeatureOptions features;
  QaDecodeOptions decode;
  QaMetric metric = QaMetric::Auto;

  void store_in(model::BertConfig& config) const;
  static QaSettings from_json(const nlohmann::json& saved);
};

struct SpanLogits {
  std::vector<std::vector<float>> start, end;  // per feature of `which`, its own length
};

// Start/end logits of the features `which`, in batches of similar length.
SpanLogits predict_spans(infer::Model& model, const std::vector<QaFeature>& features,
                         const std::vector<std::int64_t>& which, std::int64_t batch_size);

struct QaRun {
  SquadData data;
  QaFeatureSet features;
  std::vector<QaPrediction> predictions;
};
// Answers every question of data (already windowed into features).
std::vector<QaPrediction> answer(infer::Model& model, const SquadData& data, const QaFeatureSet& features,
                                 const QaSettings& settings, std::int64_t batch_size);
// Reads a SQuAD-layout file and answers every question, as `model` was trained to read.
QaRun answer_file(infer::Model& model, const std::string& path, std::int64_t batch_size);

// The evaluation report: the official metrics plus the read and window counts.
nlohmann::json qa_report(const QaScore& score, const SquadData& data, const QaFeatureSet& features);

}  // namespace bf::ft::qa
