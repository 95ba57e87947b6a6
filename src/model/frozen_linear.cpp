#include "model/frozen_linear.h"

#include "model/bert_model.h"
#include "model/quantized_linear.h"
#include "util/error.h"

namespace bf::model {

Bf16Linear::Bf16Linear(const torch::Tensor& weight, const torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  weight_ = weight.detach().to(torch::kBFloat16).contiguous();
  if (bias.defined()) bias_ = bias.detach().to(torch::kBFloat16).contiguous();
}

torch::Tensor Bf16Linear::forward(const torch::Tensor& x) const {
  if (x.requires_grad()) bf::fail("frozen bf16 linears are for inference only: no gradient flows through them");
  return torch::linear(x.to(torch::kBFloat16), weight_, bias_);
}

std::shared_ptr<const FrozenLinear> freeze_linear(const torch::Tensor& weight, const torch::Tensor& bias,
                                                  FrozenPrecision precision) {
  if (precision == FrozenPrecision::Int8) return std::make_shared<const Int8Linear>(weight, bias);
  return std::make_shared<const Bf16Linear>(weight, bias);
}

void freeze_linears(BertModelImpl& encoder, FrozenPrecision precision) {
  if (precision == FrozenPrecision::Int8) {
    const auto device = encoder.embeddings->parameters().front().device();
    if (const auto why = int8_unavailable_reason(device); !why.empty()) bf::fail(why);
  }
  for (const auto& module : *encoder.encoder->layer) {
    auto layer = module->as<BertLayer>();
    layer->attention->self->freeze(precision);
    layer->attention->output->freeze(precision);
    layer->intermediate->freeze(precision);
    layer->output->freeze(precision);
  }
}

}  // namespace bf::model
