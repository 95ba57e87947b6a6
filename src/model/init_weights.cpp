#include "model/init_weights.h"

#include "model/pretraining_heads.h"

namespace bf::model {

void init_bert_weights(torch::nn::Module& model, const BertConfig& config) {
  torch::NoGradGuard no_grad;
  const double std = config.initializer_range;
  for (const auto& module : model.modules(/*include_self=*/true)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      linear->weight.normal_(0.0, std);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = module->as<torch::nn::Embedding>()) {
      embedding->weight.normal_(0.0, std);
      if (auto pad = embedding->options.padding_idx()) embedding->weight[*pad].zero_();
    } else if (auto* norm = module->as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    } else if (auto* head = module->as<MaskedLmHead>()) {
      head->bias.zero_();
    }
  }
}

}  // namespace bf::model
