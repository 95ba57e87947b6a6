#include "model/activation.h"

#include "util/error.h"

namespace bf::model {

torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  bf::fail("unsupported hidden_act '" + name + "'");
}

}  // namespace bf::model
