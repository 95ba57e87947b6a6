#include "finetune/classifier.h"

#include "finetune/batch_plan.h"
#include "io/hf_model.h"
#include "model/any_bert.h"
#include "util/error.h"

namespace bf::ft {

LoadedClassifier load_classifier(const std::string& dir, torch::Device device) {
  LoadedClassifier c;
  c.dir = dir;
  c.config = io::load_model_config(dir);
  if (model::architecture_of(c.config) != model::Architecture::SequenceClassification)
    bf::fail(dir + ": not a sequence classifier (config.json architectures: BertForSequenceClassification expected); "
             "fine-tune it first with bertforge finetune");
  c.tokenizer = io::load_model_tokenizer(dir, c.config);
  c.task = task_of(c.config);
  c.labels = LabelMap::of(c.config);
  c.pad_id = c.tokenizer->special_ids().pad;
  c.model = model::BertForSequenceClassification(c.config);
  const auto report = io::load_weights(*c.model, io::find_weights_file(dir));
  if (!report.missing.empty()) bf::fail(dir + ": weights do not match the model: " + report.summary());
  c.model->to(device);
  c.model->eval();
  return c;
}

torch::Tensor predict_logits(model::BertForSequenceClassification& model, const Dataset& data,
                             std::int64_t batch_size, std::int32_t pad_id, torch::Device device) {
  c10::InferenceMode inference;  // no autograd records, no version counters
  const bool was_training = model->is_training();
  model->eval();
  const auto classes = model->classifier->options.out_features();
  auto logits = torch::empty({data.size(), classes}, torch::kFloat32);
  for (const auto& index : plan_by_length(data.lengths(), batch_size)) {
    auto batch = collate(data, index, pad_id);
    auto out = model->forward(batch.input_ids.to(device), batch.token_type_ids.to(device),
                              batch.attention_mask.to(device));
    logits.index_copy_(0, torch::tensor(index, torch::kLong), out.logits.to(torch::kCPU, torch::kFloat32));
  }
  if (was_training) model->train();
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

}  // namespace bf::ft
