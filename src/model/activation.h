#pragma once
#include <torch/torch.h>

#include <string>

namespace bf::model {

// hidden_act by its Hugging Face name; "gelu" is the exact erf form.
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

}  // namespace bf::model
