#include "model/any_bert.h"

#include "model/bert_for_pretraining.h"
#include "model/bert_for_sequence_classification.h"
#include "model/init_weights.h"
#include "util/error.h"

namespace bf::model {

Architecture architecture_of(const BertConfig& config) {
  for (const auto& name : config.architectures) {
    if (name == "BertForSequenceClassification") return Architecture::SequenceClassification;
    if (name == "BertForPreTraining" || name == "BertForMaskedLM") return Architecture::PreTraining;
    if (name == "BertModel") return Architecture::Encoder;
  }
  return Architecture::PreTraining;
}

std::string architecture_name(Architecture arch) {
  switch (arch) {
    case Architecture::PreTraining: return "BertForPreTraining";
    case Architecture::SequenceClassification: return "BertForSequenceClassification";
    case Architecture::Encoder: return "BertModel";
  }
  return "BertForPreTraining";
}

Architecture parse_architecture(const std::string& name) {
  if (name == "pretraining" || name == "BertForPreTraining") return Architecture::PreTraining;
  if (name == "classification" || name == "BertForSequenceClassification") return Architecture::SequenceClassification;
  if (name == "encoder" || name == "BertModel") return Architecture::Encoder;
  bf::fail("unknown architecture '" + name + "' (pretraining, classification or encoder)");
}

std::shared_ptr<torch::nn::Module> make_model(const BertConfig& config, Architecture arch) {
  std::shared_ptr<torch::nn::Module> model;
  switch (arch) {
    case Architecture::PreTraining: model = BertForPreTraining(config).ptr(); break;
    case Architecture::SequenceClassification: model = BertForSequenceClassification(config).ptr(); break;
    case Architecture::Encoder: model = BertModel(config).ptr(); break;
  }
  init_bert_weights(*model, config);
  return model;
}

}  // namespace bf::model
