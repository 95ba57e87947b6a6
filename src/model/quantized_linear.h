#pragma once
// Dynamic int8 quantization of the encoder's linears, for inference
// (`--precision int8`), as torch.ao.quantization.quantize_dynamic does in
// Python: each weight is quantized once (int8, symmetric, one scale per
// output row) and prepacked; each input is quantized on the fly (uint8, one
// scale for the tensor, from its min and max), the GEMM runs in integers and
// its result comes back in fp32 with the bias added. LibTorch's oneDNN
// engine runs it (Debian's LibTorch 1.13 has no FBGEMM; its QNNPACK ran
// 10-50x slower than fp32 here).
#include <torch/torch.h>

#include <string>

#include "model/frozen_linear.h"

namespace bf::model {

// A linear's weight and bias prepacked for oneDNN's int8 GEMM.
class Int8Linear : public FrozenLinear {
 public:
  // weight [out, in] and bias [out], fp32 on the CPU.
  Int8Linear(const torch::Tensor& weight, const torch::Tensor& bias);
  ~Int8Linear() override;
  // x [..., in] fp32 -> [..., out] fp32. Inference only: an input that
  // needs a gradient is an error (none flows through the int8 GEMM).
  torch::Tensor forward(const torch::Tensor& x) const override;

 private:
  struct Packed;
  std::unique_ptr<Packed> packed_;
};

// Why int8 cannot run on `device` ("" when it can): a CUDA device, or a
// LibTorch built without the oneDNN quantized engine.
std::string int8_unavailable_reason(const torch::Device& device);

}  // namespace bf::model
