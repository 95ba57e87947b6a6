#include "finetune/classify/classifier.h"

#include <algorithm>

#include "infer/batches.h"
#include "model/bert_for_sequence_classification.h"

namespace bf::ft::classify {

torch::Tensor predict_logits(infer::Model& model, const Dataset& data, std::int64_t batch_size) {
  std::vector<infer::Sequence> sequences;
  sequences.reserve(data.examples.size());
  for (const auto& e : data.examples) sequences.push_back({&e.input_ids, &e.token_type_ids});
  const auto classes = model.net<model::BertForSequenceClassification>()->classifier->options.out_features();
  auto logits = torch::empty({data.size(), classes}, torch::kFloat32);
  infer::run(model, sequences, {batch_size}, [&](const infer::PaddedBatch& batch, const infer::Outputs& out) {
    logits.index_copy_(0, torch::tensor(batch.index, torch::kLong), out.logits.to(torch::kCPU, torch::kFloat32));
  });
  return logits;
}

Decision decide(TaskType task, const torch::Tensor& row) {
  Decision d;
  auto values = row.to(torch::kFloat64).contiguous();
  const auto* v = values.data_ptr<double>();
  const auto n = values.numel();
  if (task == TaskType::Regression) {
    d.value = v[0];
    return d;
  }
  if (task == TaskType::SingleLabel) {
    auto probs = torch::softmax(values, 0);
    d.probabilities.assign(probs.data_ptr<double>(), probs.data_ptr<double>() + n);
    d.label = std::max_element(v, v + n) - v;  // first of equal maxima, as argmax
    return d;
  }
  auto probs = torch::sigmoid(values);
  d.probabilities.assign(probs.data_ptr<double>(), probs.data_ptr<double>() + n);
  for (std::int64_t c = 0; c < n; ++c)
    if (d.probabilities[static_cast<std::size_t>(c)] > 0.5) d.label_ids.push_back(c);
  return d;
}

}  // namespace bf::ft::classify
