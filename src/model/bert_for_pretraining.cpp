#include "model/bert_for_pretraining.h"

#include "model/fused/fused_ops.h"
#include "util/error.h"

namespace bf::model {

BertForPreTrainingImpl::BertForPreTrainingImpl(const BertConfig& c) {
  bert = register_module("bert", BertModel(c));
  cls = register_module("cls", BertPreTrainingHeads(c));
}

namespace {

// Rows of the flattened [B*S, H] hidden states that carry an MLM label, and those labels.
std::pair<torch::Tensor, torch::Tensor> labelled_rows(const PreTrainingInputs& in, std::int64_t seq) {
  if (in.masked_positions.defined()) {
    const auto batch = in.masked_positions.size(0);
    auto offsets = torch::arange(batch, in.masked_positions.options()).mul_(seq).unsqueeze(1);
    auto valid = in.masked_labels.ne(-100);
    return {(in.masked_positions + offsets).masked_select(valid), in.masked_labels.masked_select(valid)};
  }
  auto flat = in.mlm_labels.reshape({-1});
  auto rows = flat.ne(-100).nonzero().squeeze(1);
  return {rows, flat.index_select(0, rows)};
}

// The summed cross-entropy of rows of logits against labels (-100 ignored),
// in fp32 whatever the logits' dtype, and how many rows argmax gets right.
std::pair<torch::Tensor, torch::Tensor> cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& labels) {
  auto sum = torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat32), labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  return {sum, logits.detach().argmax(-1).eq(labels).sum()};
}

}  // namespace

// The tied word embedding, through a view of its own when its gradient's
// decoder part is wanted apart: the view's hook sees that part before
// autograd adds the lookup's to it.
torch::Tensor BertForPreTrainingImpl::decoder_weight() const {
  const auto& weight = bert->embeddings->word_embeddings->weight;
  if (!on_decoder_gradient || !weight.requires_grad() || !torch::GradMode::is_enabled()) return weight;
  auto view = weight.view_as(weight);
  view.register_hook([hook = on_decoder_gradient](const torch::Tensor& grad) { hook(grad); });
  return view;
}

PreTrainingOutput BertForPreTrainingImpl::forward(const PreTrainingInputs& in, bool all_position_logits) {
  PreTrainingOutput out;
  const bool has_mlm_labels = in.mlm_labels.defined() || in.masked_positions.defined();
  // The decoder below gives the tied table a dense gradient: the lookup's
  // part can be sparse (embeddings.h). Reset even when forward throws.
  struct SparseLookup {
    BertEmbeddingsImpl& e;
    SparseLookup(BertEmbeddingsImpl& e, bool on) : e(e) { e.sparse_word_gradient = on; }
    ~SparseLookup() { e.sparse_word_gradient = false; }
  } sparse_lookup(*bert->embeddings, all_position_logits || has_mlm_labels);
  auto encoded = bert->forward(in.input_ids, in.token_type_ids, in.attention_mask);
  out.last_hidden_state = encoded.last_hidden_state;
  out.pooler_output = encoded.pooler_output;
  const auto word_embeddings = decoder_weight();
  const auto hidden_size = encoded.last_hidden_state.size(-1);
  const auto seq = encoded.last_hidden_state.size(1);

  torch::Tensor logits_for_loss, labels_for_loss;
  if (all_position_logits) {
    out.prediction_logits = cls->predictions->forward(encoded.last_hidden_state, word_embeddings);
    if (has_mlm_labels) {
      auto [rows, labels] = labelled_rows(in, seq);
      logits_for_loss = out.prediction_logits.reshape({-1, out.prediction_logits.size(-1)}).index_select(0, rows);
      labels_for_loss = labels;
    }
  } else if (has_mlm_labels) {
    auto [rows, labels] = labelled_rows(in, seq);
    auto selected = encoded.last_hidden_state.reshape({-1, hidden_size}).index_select(0, rows);
    out.prediction_logits = cls->predictions->forward(selected, word_embeddings);
    logits_for_loss = out.prediction_logits;
    labels_for_loss = labels;
  }

  torch::Tensor total;
  if (logits_for_loss.defined()) {
    out.mlm_count = labels_for_loss.size(0);
    // The loss is taken in fp32 whatever the compute dtype. Fused: one pass
    // over the [M, V] logits each way, no log-probabilities stored.
    auto [sum, correct] = config().fused_kernels && fused::supports(logits_for_loss)
                              ? fused::cross_entropy_sum(logits_for_loss, labels_for_loss)
                              : cross_entropy_sum(logits_for_loss, labels_for_loss);
    const double denom = in.mlm_denominator > 0 ? in.mlm_denominator : std::max<std::int64_t>(out.mlm_count, 1);
    out.mlm_loss = sum / denom;
    out.mlm_loss_sum = sum.detach();
    out.mlm_correct = correct;
    total = out.mlm_loss;
  }

  out.seq_relationship_logits = cls->seq_relationship->forward(encoded.pooler_output);
  if (in.next_sentence_label.defined()) {
    auto labels = in.next_sentence_label.reshape({-1});
    auto [sum, correct] = cross_entropy_sum(out.seq_relationship_logits, labels);
    const double denom = in.nsp_denominator > 0 ? in.nsp_denominator : std::max<std::int64_t>(labels.size(0), 1);
    out.nsp_loss = sum / denom;
    out.nsp_loss_sum = sum.detach();
    out.nsp_correct = correct;
    total = total.defined() ? total + out.nsp_loss : out.nsp_loss;
  }
  out.loss = total;
  return out;
}

}  // namespace bf::model
