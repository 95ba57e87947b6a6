#include "serve/metrics.h"

#include <fmt/format.h>

namespace bf::serve {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::render(const std::string& name) const {
  std::string out = "# TYPE " + name + " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
  return out;
}

Metrics::Metrics()
    : latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      batch_size_({1, 2, 4, 8, 16, 32, 64, 128, 256}) {}

void Metrics::count_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  latency_.observe(seconds);
}

void Metrics::count_batch(std::int64_t sequences, std::int64_t tokens, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_size_.observe(static_cast<double>(sequences));
  ++batches_;
  tokens_ += static_cast<std::uint64_t>(tokens);
  forward_seconds_ += seconds;
}

std::string Metrics::render(std::size_t queue_depth) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "# TYPE bertforge_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("bertforge_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
  out += fmt::format("# TYPE bertforge_queue_depth gauge\nbertforge_queue_depth {}\n", queue_depth);
  out += latency_.render("bertforge_request_duration_seconds");
  out += batch_size_.render("bertforge_batch_size");
  out += fmt::format("# TYPE bertforge_batches_total counter\nbertforge_batches_total {}\n", batches_);
  out += fmt::format("# TYPE bertforge_tokens_total counter\nbertforge_tokens_total {}\n", tokens_);
  // Tokens per second of forward time: the model's own speed, not diluted by idle time.
  const double rate = forward_seconds_ > 0 ? static_cast<double>(tokens_) / forward_seconds_ : 0.0;
  out += fmt::format("# TYPE bertforge_tokens_per_second gauge\nbertforge_tokens_per_second {:.1f}\n", rate);
  return out;
}

}  // namespace bf::serve
