#include "data/progress.h"

#include <unistd.h>

#include <cstdio>
#include <spdlog/spdlog.h>

namespace bf::data {

ProgressMeter::ProgressMeter(std::string what, std::int64_t total, std::string unit, double unit_scale, bool enabled)
    : what_(std::move(what)),
      total_(total),
      unit_(std::move(unit)),
      scale_(unit_scale),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void ProgressMeter::update(std::int64_t done) {
  last_done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = tty_ ? std::chrono::milliseconds(250) : std::chrono::milliseconds(10000);
  if (now - last_print_ < interval) return;
  last_print_ = now;
  print(done, false);
}

void ProgressMeter::finish() {
  if (!enabled_) return;
  if (tty_ && printed_) std::fprintf(stderr, "\r\033[K");
}

void ProgressMeter::print(std::int64_t done, bool) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? done * scale_ / seconds : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done) / total_ : 0.0;
  const double eta = rate > 0 && total_ > done ? (total_ - done) * scale_ / rate : 0.0;
  char line[256];
  std::snprintf(line, sizeof(line), "%s: %.1f/%.1f %s (%.0f%%), %.2f %s/s, ETA %.0fs", what_.c_str(), done * scale_,
                total_ * scale_, unit_.c_str(), 100.0 * fraction, rate, unit_.c_str(), eta);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line);
    std::fflush(stderr);
  } else {
    spdlog::info("{}", line);
  }
  printed_ = true;
}

}  // namespace bf::data
