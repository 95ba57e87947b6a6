#pragma once
#include <torch/torch.h>

#include <string>

namespace bf::model {

// hidden_act by its Hugging Face name, in LibTorch's ops ("gelu" is the exact
// erf form). The plain expression: modules with fused_kernels on take
// fused::gelu for "gelu" where it runs.
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

}  // namespace bf::model
