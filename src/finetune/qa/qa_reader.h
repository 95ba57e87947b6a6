#pragma once
// An extractive-QA model at work: features (windows) batched with dynamic
// padding, start/end logits per window, decoded into answers and scored as
// the official scripts score them. The fine-tuning task, evaluate and predict
// all go through here.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "finetune/qa/qa_decode.h"
#include "finetune/qa/qa_features.h"
#include "finetune/qa/qa_metrics.h"
#include "finetune/qa/squad_reader.h"
#include "model/bert_config.h"
#include "model/bert_for_question_answering.h"
#include "tokenizer/tokenizer.h"

namespace bf::ft::qa {

struct FeatureBatch {
  torch::Tensor input_ids, token_type_ids, attention_mask;  // [B, S], S = the longest window of the batch
  torch::Tensor start_positions, end_positions;             // [B]
};
FeatureBatch collate_features(const std::vector<QaFeature>& features, const std::vector<std::int64_t>& index,
                              std::int32_t pad_id);

// How a QA model reads and decodes; stored in config.json ("bertforge_data")
// so that evaluate and predict work as training did.
struct QaSettings {
  QaFeatureOptions features;
  QaDecodeOptions decode;
  QaMetric metric = QaMetric::Auto;

  void store_in(model::BertConfig& config) const;
  static QaSettings of(const model::BertConfig& config);
};

struct SpanLogits {
  std::vector<std::vector<float>> start, end;  // per feature of `which`, its own length
};

// Start/end logits of the features `which`, in batches of similar length.
// Eval mode and no autograd are the caller's.
SpanLogits predict_spans(model::BertForQuestionAnswering& model, const std::vector<QaFeature>& features,
                         const std::vector<std::int64_t>& which, std::int64_t batch_size, std::int32_t pad_id,
                         torch::Device device);

// A fine-tuned QA model directory, loaded.
struct LoadedReader {
  std::string dir;
  model::BertConfig config;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  model::BertForQuestionAnswering model{nullptr};
  QaSettings settings;
};
LoadedReader load_reader(const std::string& dir, torch::Device device);

struct QaRun {
  SquadData data;
  QaFeatureSet features;
  std::vector<QaPrediction> predictions;
};
// Reads a SQuAD-layout file and answers every question.
QaRun answer_file(LoadedReader& reader, const std::string& path, std::int64_t batch_size, torch::Device device);

// The evaluation report: the official metrics plus the read and window counts.
nlohmann::json qa_report(const QaScore& score, const SquadData& data, const QaFeatureSet& features);

}  // namespace bf::ft::qa
