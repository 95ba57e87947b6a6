#include "model/bert_for_question_answering.h"

namespace bf::model {

BertForQuestionAnsweringImpl::BertForQuestionAnsweringImpl(const BertConfig& c) {
  bert = register_module("bert", BertModel(c, /*add_pooling_layer=*/false));
  qa_outputs = register_module("qa_outputs", torch::nn::Linear(c.hidden_size, 2));
}

QuestionAnsweringOutput BertForQuestionAnsweringImpl::forward(const torch::Tensor& input_ids,
                                                              const torch::Tensor& token_type_ids,
                                                              const torch::Tensor& attention_mask,
                                                              const torch::Tensor& start_positions,
                                                              const torch::Tensor& end_positions) {
  auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(input_ids);
  auto encoded = bert->forward(input_ids, token_type_ids, mask, /*all_layers=*/false);
  auto logits = qa_outputs->forward(encoded.last_hidden_state);  // [B, S, 2]
  QuestionAnsweringOutput out;
  out.start_logits = logits.select(-1, 0).contiguous();
  out.end_logits = logits.select(-1, 1).contiguous();
  if (start_positions.defined() && end_positions.defined()) {
    const auto l = span_loss_sum(out.start_logits, out.end_logits, start_positions, end_positions);
    out.loss = (l.start_sum / l.start_count.clamp_min(1) + l.end_sum / l.end_count.clamp_min(1)) / 2;
  }
  return out;
}

SpanLoss span_loss_sum(const torch::Tensor& start_logits, const torch::Tensor& end_logits,
                       const torch::Tensor& start_positions, const torch::Tensor& end_positions) {
  namespace F = torch::nn::functional;
  const auto ignored = start_logits.size(1);
  auto start = start_positions.reshape({-1}).to(torch::kLong).clamp(0, ignored);
  auto end = end_positions.reshape({-1}).to(torch::kLong).clamp(0, ignored);
  const auto options = F::CrossEntropyFuncOptions().ignore_index(ignored).reduction(torch::kSum);
  SpanLoss l;
  l.start_sum = F::cross_entropy(start_logits.to(torch::kFloat32), start, options);
  l.end_sum = F::cross_entropy(end_logits.to(torch::kFloat32), end, options);
  l.start_count = start.ne(ignored).sum().to(torch::kFloat32);
  l.end_count = end.ne(ignored).sum().to(torch::kFloat32);
  return l;
}

}  // namespace bf::model
