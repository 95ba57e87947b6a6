#pragma once
// The server's counters in Prometheus' text format (GET /metrics): requests
// by route and status, the queue's depth, batch sizes, request latency, and
// tokens through the model (total and per second of forward time).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bf::serve {

// Cumulative buckets, as Prometheus histograms are.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // `name`_bucket{le=...}, _sum and _count lines.
  std::string render(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // one per bound, then +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& route, int status, double seconds);
  // One forward: its sequences, real (unpadded) tokens and time.
  void count_batch(std::int64_t sequences, std::int64_t tokens, double seconds);
  std::string render(std::size_t queue_depth) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  Histogram latency_;
  Histogram batch_size_;
  std::uint64_t batches_ = 0;
  std::uint64_t tokens_ = 0;
  double forward_seconds_ = 0;
};

}  // namespace bf::serve
