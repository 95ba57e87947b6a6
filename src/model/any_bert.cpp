#include "model/any_bert.h"

#include "model/bert_for_pretraining.h"
#include "model/bert_for_question_answering.h"
#include "model/bert_for_sequence_classification.h"
#include "model/bert_for_token_classification.h"
#include "model/init_weights.h"
#include "util/error.h"

namespace bf::model {

namespace {

struct ArchitectureName {
  Architecture arch;
  const char* hf;     // config.json "architectures"
  const char* short_name;
};
const ArchitectureName kNames[] = {
    {Architecture::PreTraining, "BertForPreTraining", "pretraining"},
    {Architecture::SequenceClassification, "BertForSequenceClassification", "classification"},
    {Architecture::TokenClassification, "BertForTokenClassification", "token_classification"},
    {Architecture::QuestionAnswering, "BertForQuestionAnswering", "question_answering"},
    {Architecture::Encoder, "BertModel", "encoder"},
};

}  // namespace

Architecture architecture_of(const BertConfig& config) {
  for (const auto& name : config.architectures) {
    if (name == "BertForMaskedLM") return Architecture::PreTraining;
    for (const auto& n : kNames)
      if (name == n.hf) return n.arch;
  }
  return Architecture::PreTraining;
}

std::string architecture_name(Architecture arch) {
  for (const auto& n : kNames)
    if (n.arch == arch) return n.hf;
  return "BertForPreTraining";
}

Architecture parse_architecture(const std::string& name) {
  std::string known;
  for (const auto& n : kNames) {
    if (name == n.hf || name == n.short_name) return n.arch;
    known += std::string(known.empty() ? "" : ", ") + n.short_name;
  }
  bf::fail("unknown architecture '" + name + "' (" + known + ")");
}

std::shared_ptr<torch::nn::Module> make_model(const BertConfig& config, Architecture arch) {
  std::shared_ptr<torch::nn::Module> model;
  switch (arch) {
    case Architecture::PreTraining: model = BertForPreTraining(config).ptr(); break;
    case Architecture::SequenceClassification: model = BertForSequenceClassification(config).ptr(); break;
    case Architecture::TokenClassification: model = BertForTokenClassification(config).ptr(); break;
    case Architecture::QuestionAnswering: model = BertForQuestionAnswering(config).ptr(); break;
    case Architecture::Encoder: model = BertModel(config).ptr(); break;
  }
  init_bert_weights(*model, config);
  return model;
}

}  // namespace bf::model
