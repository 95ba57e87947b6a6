#include "model/bert_for_token_classification.h"

#include "model/dropout.h"

namespace bf::model {

BertForTokenClassificationImpl::BertForTokenClassificationImpl(const BertConfig& c)
    : dropout_(c.classifier_dropout.value_or(c.hidden_dropout_prob)) {
  bert = register_module("bert", BertModel(c, /*add_pooling_layer=*/false));
  classifier = register_module("classifier", torch::nn::Linear(c.hidden_size, c.num_labels));
}

TokenClassificationOutput BertForTokenClassificationImpl::forward(const torch::Tensor& input_ids,
                                                                  const torch::Tensor& token_type_ids,
                                                                  const torch::Tensor& attention_mask,
                                                                  const torch::Tensor& labels) {
  auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(input_ids);
  auto encoded = bert->forward(input_ids, token_type_ids, mask, /*all_layers=*/false);
  TokenClassificationOutput out;
  out.logits = classifier->forward(bf::model::dropout(encoded.last_hidden_state, dropout_, is_training()));
  if (labels.defined()) {
    const auto l = token_classification_loss_sum(out.logits, labels);
    out.loss = l.sum / l.count.clamp_min(1);
  }
  return out;
}

TokenLoss token_classification_loss_sum(const torch::Tensor& logits, const torch::Tensor& labels) {
  namespace F = torch::nn::functional;
  const auto flat_labels = labels.reshape({-1}).to(torch::kLong);
  TokenLoss l;
  l.sum = F::cross_entropy(logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}), flat_labels,
                           F::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum));
  l.count = flat_labels.ne(-100).sum().to(torch::kFloat32);
  return l;
}

}  // namespace bf::model
