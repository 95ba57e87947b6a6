#include "io/model_forward.h"

#include <spdlog/spdlog.h>

#include "io/batch_json.h"
#include "io/hf_model.h"
#include "model/any_bert.h"
#include "model/bert_for_pretraining.h"
#include "model/bert_for_question_answering.h"
#include "model/bert_for_sequence_classification.h"
#include "model/bert_for_token_classification.h"
#include "util/error.h"

namespace bf::io {
namespace {

torch::Tensor optional_key(const std::map<std::string, torch::Tensor>& batch, const std::string& key) {
  auto it = batch.find(key);
  return it == batch.end() ? torch::Tensor() : it->second;
}

torch::Tensor as_f64_scalar(const torch::Tensor& loss) { return loss.detach().to(torch::kFloat64).reshape({1}); }

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> forward_model_dir(const std::string& model_dir,
                                                                    const std::string& batch_json) {
  auto config = load_model_config(model_dir);
  const auto arch = model::architecture_of(config);
  auto net = model::make_model(config, arch);
  const auto report = load_weights(*net, find_weights_file(model_dir));
  if (!report.missing.empty()) bf::fail(model_dir + ": weights incomplete: " + report.summary());
  spdlog::info("{}", report.summary());
  net->eval();
  const auto batch = read_batch_json(batch_json);
  auto input_ids = optional_key(batch, "input_ids");
  if (!input_ids.defined()) bf::fail(batch_json + ": missing key 'input_ids'");
  auto token_type_ids = optional_key(batch, "token_type_ids");
  auto attention_mask = optional_key(batch, "attention_mask");

  std::vector<std::pair<std::string, torch::Tensor>> outputs;
  torch::NoGradGuard no_grad;
  if (arch == model::Architecture::PreTraining) {
    model::PreTrainingInputs in;
    in.input_ids = input_ids;
    in.token_type_ids = token_type_ids;
    in.attention_mask = attention_mask;
    in.mlm_labels = optional_key(batch, "masked_lm_labels");
    if (!in.mlm_labels.defined()) in.mlm_labels = optional_key(batch, "labels");
    in.next_sentence_label = optional_key(batch, "next_sentence_label");
    auto out = net->as<model::BertForPreTraining>()->forward(in, /*all_position_logits=*/true);
    outputs = {{"last_hidden_state", out.last_hidden_state},
               {"pooler_output", out.pooler_output},
               {"prediction_logits", out.prediction_logits},
               {"seq_relationship_logits", out.seq_relationship_logits}};
    if (out.mlm_loss.defined()) outputs.emplace_back("mlm_loss", as_f64_scalar(out.mlm_loss));
    if (out.nsp_loss.defined()) outputs.emplace_back("nsp_loss", as_f64_scalar(out.nsp_loss));
    if (out.mlm_loss.defined() && out.nsp_loss.defined()) outputs.emplace_back("total_loss", as_f64_scalar(out.loss));
  } else if (arch == model::Architecture::SequenceClassification) {
    auto* classifier = net->as<model::BertForSequenceClassification>();
    auto out = classifier->forward(input_ids, token_type_ids, attention_mask, optional_key(batch, "labels"));
    auto encoded = classifier->bert->forward(input_ids, token_type_ids, attention_mask);
    outputs = {{"last_hidden_state", encoded.last_hidden_state},
               {"pooler_output", encoded.pooler_output},
               {"logits", out.logits}};
    if (out.loss.defined()) outputs.emplace_back("loss", as_f64_scalar(out.loss));
  } else if (arch == model::Architecture::TokenClassification) {
    auto* tagger = net->as<model::BertForTokenClassification>();
    auto out = tagger->forward(input_ids, token_type_ids, attention_mask, optional_key(batch, "labels"));
    outputs = {{"last_hidden_state", tagger->bert->forward(input_ids, token_type_ids, attention_mask).last_hidden_state},
               {"logits", out.logits}};
    if (out.loss.defined()) outputs.emplace_back("loss", as_f64_scalar(out.loss));
  } else if (arch == model::Architecture::QuestionAnswering) {
    auto* reader = net->as<model::BertForQuestionAnswering>();
    auto out = reader->forward(input_ids, token_type_ids, attention_mask, optional_key(batch, "start_positions"),
                               optional_key(batch, "end_positions"));
    outputs = {{"last_hidden_state", reader->bert->forward(input_ids, token_type_ids, attention_mask).last_hidden_state},
               {"start_logits", out.start_logits},
               {"end_logits", out.end_logits}};
    if (out.loss.defined()) outputs.emplace_back("loss", as_f64_scalar(out.loss));
  } else {
    auto out = net->as<model::BertModel>()->forward(input_ids, token_type_ids, attention_mask);
    outputs = {{"last_hidden_state", out.last_hidden_state}, {"pooler_output", out.pooler_output}};
  }
  return outputs;
}

}  // namespace bf::io
