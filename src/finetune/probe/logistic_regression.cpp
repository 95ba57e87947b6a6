#include "finetune/probe/logistic_regression.h"

namespace bf::ft {
namespace {

torch::Tensor as_double_cpu(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kDouble); }

}  // namespace

torch::Tensor LogisticRegression::logits(const torch::Tensor& features) const {
  const auto x = (as_double_cpu(features) - mean) / scale;
  return torch::addmm(bias, x, weight);
}

torch::Tensor LogisticRegression::predict(const torch::Tensor& features) const { return logits(features).argmax(1); }

LogisticRegression fit_logistic_regression(const torch::Tensor& features, const torch::Tensor& labels,
                                           std::int64_t classes, double l2, std::int64_t max_iterations) {
  TORCH_CHECK(features.dim() == 2 && labels.dim() == 1 && features.size(0) == labels.size(0),
              "logistic regression: features [N, F] and labels [N] expected");
  torch::NoGradGuard outside;  // autograd only inside the closure
  auto x = as_double_cpu(features);
  const auto y = labels.detach().to(torch::kCPU, torch::kLong);
  const auto n = x.size(0);
  if (l2 <= 0) l2 = 1.0 / static_cast<double>(std::max<std::int64_t>(n, 1));

  LogisticRegression model;
  model.mean = x.mean(0);
  // Constant features keep scale 1 rather than dividing by zero.
  const auto spread = x.std(0, /*unbiased=*/false);
  model.scale = torch::where(spread > 1e-12, spread, torch::ones_like(spread));
  x = (x - model.mean) / model.scale;

  auto weight = torch::zeros({x.size(1), classes}, torch::kDouble).requires_grad_();
  auto bias = torch::zeros({classes}, torch::kDouble).requires_grad_();
  torch::optim::LBFGS optimizer({weight, bias}, torch::optim::LBFGSOptions(1.0)
                                                    .max_iter(max_iterations)
                                                    .max_eval(max_iterations * 5 / 4)
                                                    .tolerance_grad(1e-9)
                                                    .tolerance_change(1e-12)
                                                    .history_size(20)
                                                    .line_search_fn("strong_wolfe"));
  std::int64_t evaluations = 0;
  auto closure = [&]() -> torch::Tensor {
    torch::AutoGradMode grad(true);
    ++evaluations;
    optimizer.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(torch::addmm(bias, x, weight), y) +
                0.5 * l2 * weight.pow(2).sum();
    loss.backward();
    return loss;
  };
  optimizer.step(closure);
  model.weight = weight.detach();
  model.bias = bias.detach();
  model.iterations = evaluations;
  return model;
}

}  // namespace bf::ft
