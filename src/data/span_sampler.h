#pragma once
// Lengths of masked spans, in words. SpanBERT draws a span's length from a
// geometric distribution p(1-p)^(n-1) cut to [1, max] and renormalised (its
// masking.py builds the same table); ERNIE and ALBERT draw an n-gram's n from
// [1, N] with weights 1/n. A draw may be limited to n <= limit, renormalised
// over the lengths left (ALBERT near the end of a sequence).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "data/counter_rng.h"

namespace bf::data {

class SpanLengths {
 public:
  static SpanLengths geometric(double p, std::int32_t max_words) {
    std::vector<double> weights;
    for (std::int32_t n = 1; n <= std::max(1, max_words); ++n) weights.push_back(p * std::pow(1.0 - p, n - 1));
    return SpanLengths(weights);
  }
  static SpanLengths inverse(std::int32_t max_n) {
    std::vector<double> weights;
    for (std::int32_t n = 1; n <= std::max(1, max_n); ++n) weights.push_back(1.0 / n);
    return SpanLengths(weights);
  }

  std::int32_t max() const { return static_cast<std::int32_t>(cumulative_.size()); }

  // P(length = n) over the whole table.
  double probability(std::int32_t n) const {
    if (n < 1 || n > max()) return 0.0;
    const double below = n > 1 ? cumulative_[static_cast<std::size_t>(n - 2)] : 0.0;
    return (cumulative_[static_cast<std::size_t>(n - 1)] - below) / cumulative_.back();
  }

  // A length in [1, min(limit, max())].
  std::int32_t draw(CounterRng& rng, std::int32_t limit) const {
    const auto top = static_cast<std::size_t>(std::clamp(limit, 1, max()));
    const double u = rng.uniform() * cumulative_[top - 1];
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.begin() + static_cast<std::ptrdiff_t>(top), u);
    const auto index = std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), top - 1);
    return static_cast<std::int32_t>(index) + 1;
  }

 private:
  explicit SpanLengths(const std::vector<double>& weights) {
    double sum = 0;
    for (double w : weights) cumulative_.push_back(sum += w);
  }

  std::vector<double> cumulative_;  // cumulative_[n-1]: total weight of lengths 1..n
};

}  // namespace bf::data
