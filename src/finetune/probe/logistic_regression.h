#pragma once
// Multinomial logistic regression on standardised features, fitted full-batch
// with L-BFGS in double precision: no randomness (zero start, no sampling), so
// the same features give the same classifier, and converged in well under a
// second for a few thousand examples of a few hundred features.
#include <torch/torch.h>

#include <cstdint>

namespace bf::ft {

struct LogisticRegression {
  torch::Tensor mean, scale;  // [F]: of the training features
  torch::Tensor weight;       // [F, C]
  torch::Tensor bias;         // [C]
  std::int64_t iterations = 0;

  torch::Tensor logits(const torch::Tensor& features) const;  // [N, C]
  torch::Tensor predict(const torch::Tensor& features) const;  // [N] class ids
};

// features [N, F] (any float dtype, any device), labels [N] in [0, classes).
// Minimises mean cross-entropy + l2 / 2 * |weight|^2; l2 = 0 means 1 / N,
// which is scikit-learn's default (C = 1).
LogisticRegression fit_logistic_regression(const torch::Tensor& features, const torch::Tensor& labels,
                                           std::int64_t classes, double l2 = 0, std::int64_t max_iterations = 500);

}  // namespace bf::ft
