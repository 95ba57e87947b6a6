#pragma once
// Progress of a long job: a self-rewriting line (rate, ETA) on a terminal,
// a plain log line every few seconds elsewhere (CI logs, files).
#include <chrono>
#include <cstdint>
#include <string>

namespace bf::data {

class ProgressMeter {
 public:
  // unit_scale converts done/total into the printed unit (1e-6 for MB).
  ProgressMeter(std::string what, std::int64_t total, std::string unit, double unit_scale, bool enabled = true);
  void update(std::int64_t done);
  void finish();

 private:
  void print(std::int64_t done, bool final);

  std::string what_;
  std::int64_t total_;
  std::string unit_;
  double scale_;
  bool enabled_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  std::int64_t last_done_ = 0;
  bool printed_ = false;
};

}  // namespace bf::data
