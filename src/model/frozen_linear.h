#pragma once
// A linear's weights prepared once for inference in a lower precision, so
// that no forward converts them again: Bf16Linear holds the bf16 copies that
// CPU autocast would otherwise cast from the fp32 weights on every forward
// (for BERT-base at batch 1 that cast alone costs about as much as the
// GEMMs); Int8Linear (model/quantized_linear.h) holds them quantized and
// packed. A module holding one runs it instead of its fp32 weights; the fp32
// weights stay (saved, loaded, trainable), so freeze only weights that will
// not change.
#include <torch/torch.h>

#include <memory>

namespace bf::model {

class BertModelImpl;

class FrozenLinear {
 public:
  virtual ~FrozenLinear() = default;
  // x [..., in] -> [..., out]. Inference only.
  virtual torch::Tensor forward(const torch::Tensor& x) const = 0;
};

// y = x W^T + b in bf16 from weights cast once: the same values autocast's
// bf16 linear gives (it casts x, W and b to bf16 the same way).
class Bf16Linear : public FrozenLinear {
 public:
  Bf16Linear(const torch::Tensor& weight, const torch::Tensor& bias);
  torch::Tensor forward(const torch::Tensor& x) const override;

 private:
  torch::Tensor weight_, bias_;
};

enum class FrozenPrecision { Bf16, Int8 };

std::shared_ptr<const FrozenLinear> freeze_linear(const torch::Tensor& weight, const torch::Tensor& bias,
                                                  FrozenPrecision precision);

// From now on every linear of the encoder's layers (attention's joined
// query/key/value and its output, intermediate, output) runs frozen in
// `precision`; the embeddings, the pooler and the heads stay as they are.
// Int8 fails with int8_unavailable_reason().
void freeze_linears(BertModelImpl& encoder, FrozenPrecision precision);

}  // namespace bf::model
