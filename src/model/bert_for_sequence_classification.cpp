#include "model/bert_for_sequence_classification.h"
#include "model/dropout.h"

#include "util/error.h"

namespace bf::model {

BertForSequenceClassificationImpl::BertForSequenceClassificationImpl(const BertConfig& c)
    : dropout_(c.classifier_dropout.value_or(c.hidden_dropout_prob)) {
  const auto options = HeadOptions::of(c);
  bert = register_module("bert", BertModel(c, /*add_pooling_layer=*/options.type == HeadType::Pooler));
  head = register_module("head", ClassifierHead(c, options));
  classifier = register_module("classifier", torch::nn::Linear(head->output_size(), c.num_labels));
}

ClassificationOutput BertForSequenceClassificationImpl::forward(const torch::Tensor& input_ids,
                                                                const torch::Tensor& token_type_ids,
                                                                const torch::Tensor& attention_mask,
                                                                const torch::Tensor& labels) {
  auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(input_ids);
  auto encoded = bert->forward(input_ids, token_type_ids, mask, head->options().needs_all_layers());
  auto features = head->forward(encoded, mask, bert->pooler);
  ClassificationOutput out;
  out.logits = classifier->forward(bf::model::dropout(features, dropout_, is_training()));
  if (labels.defined()) out.loss = classification_loss(infer_problem_type(config(), labels), out.logits, labels);
  return out;
}

std::string infer_problem_type(const BertConfig& config, const torch::Tensor& labels) {
  if (config.problem_type) return *config.problem_type;
  if (config.num_labels == 1) return "regression";
  if (labels.scalar_type() == torch::kLong || labels.scalar_type() == torch::kInt) return "single_label_classification";
  return "multi_label_classification";
}

torch::Tensor classification_loss(const std::string& problem_type, const torch::Tensor& logits,
                                  const torch::Tensor& labels) {
  namespace F = torch::nn::functional;
  auto logits32 = logits.to(torch::kFloat32);
  if (problem_type == "regression") {
    if (logits.size(-1) == 1) return F::mse_loss(logits32.squeeze(-1), labels.to(torch::kFloat32).reshape({-1}));
    return F::mse_loss(logits32, labels.to(torch::kFloat32));
  }
  if (problem_type == "single_label_classification")
    return F::cross_entropy(logits32.reshape({-1, logits.size(-1)}), labels.reshape({-1}).to(torch::kLong));
  if (problem_type == "multi_label_classification")
    return F::binary_cross_entropy_with_logits(logits32, labels.to(torch::kFloat32));
  bf::fail("unknown problem_type '" + problem_type + "'");
}

}  // namespace bf::model
