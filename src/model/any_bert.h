#pragma once
// A model directory's config.json decides which architecture it holds.
#include <torch/torch.h>

#include <string>

#include "model/bert_config.h"

namespace bf::model {

enum class Architecture { PreTraining, SequenceClassification, TokenClassification, QuestionAnswering, Encoder };

// From config.architectures (HF's field); PreTraining when absent.
Architecture architecture_of(const BertConfig& config);
std::string architecture_name(Architecture arch);
// pretraining | classification | token_classification | question_answering |
// encoder, or the HF class names.
Architecture parse_architecture(const std::string& name);

// A freshly constructed (and initialised) model of the given architecture.
std::shared_ptr<torch::nn::Module> make_model(const BertConfig& config, Architecture arch);

}  // namespace bf::model
