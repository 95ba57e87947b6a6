#include "train/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace bf::train {

namespace {

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string format_rate(double per_s) {
  char buf[32];
  if (per_s >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2fM", per_s / 1e6);
  } else if (per_s >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1fk", per_s / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", per_s);
  }
  return buf;
}

std::string format_value(const std::string& key, double v) {
  char buf[48];
  if (key == "lr") {
    std::snprintf(buf, sizeof buf, "%.2e", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%llds", s);
  }
  return buf;
}

std::string format_progress(std::int64_t step, std::int64_t total, const std::map<std::string, double>& values,
                            double eta_seconds) {
  char head[96];
  if (total > 0) {
    std::snprintf(head, sizeof head, "step %lld/%lld (%.1f%%)", static_cast<long long>(step),
                  static_cast<long long>(total), 100.0 * static_cast<double>(step) / static_cast<double>(total));
  } else {
    std::snprintf(head, sizeof head, "step %lld", static_cast<long long>(step));
  }
  std::string out = head;
  // The usual three first, in a fixed order, then anything else alphabetically.
  for (const char* key : {"loss", "lr"}) {
    if (auto it = values.find(key); it != values.end()) out += std::string(" | ") + key + " " + format_value(key, it->second);
  }
  auto is_rate = [](const std::string& key) { return key == "tokens_per_s" || key == "tokens/s"; };
  for (const auto& [key, v] : values) {
    if (key == "loss" || key == "lr" || is_rate(key)) continue;
    out += " | " + key + " " + format_value(key, v);
  }
  for (const auto& [key, v] : values) {
    if (is_rate(key)) out += " | " + format_rate(v) + " tok/s";
  }
  out += " | ETA " + format_duration(eta_seconds);
  return out;
}

Progress::Progress(std::int64_t total_steps, std::int64_t start_step, ProgressOptions options)
    : total_(total_steps),
      start_step_(start_step),
      options_(options),
      tty_(options.tty.value_or(::isatty(STDERR_FILENO) == 1)),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_),
      step_(start_step) {}

Progress::~Progress() { break_line(); }

void Progress::update(std::int64_t step, const std::map<std::string, double>& values) {
  step_ = step;
  values_ = values;
  const double since = seconds_between(last_print_, std::chrono::steady_clock::now());
  if (since >= (tty_ ? options_.tty_interval_s : options_.interval_s)) print(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  print(true);
  break_line();
}

void Progress::break_line() {
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
}

double Progress::eta_seconds(std::int64_t step) const {
  const double elapsed = seconds_between(start_, std::chrono::steady_clock::now());
  const auto done = step - start_step_;
  if (done <= 0 || total_ <= 0) return -1.0;
  return elapsed / static_cast<double>(done) * static_cast<double>(total_ - step);
}

void Progress::print(bool final) {
  last_print_ = std::chrono::steady_clock::now();
  if (!options_.enabled) return;
  const std::string text = format_progress(step_, total_, values_, final ? 0.0 : eta_seconds(step_));
  if (tty_) {
    // \r and erase-to-end-of-line: the previous, longer text leaves no tail.
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
    std::fflush(stderr);
    line_open_ = true;
  } else {
    spdlog::info("{}", text);
  }
}

}  // namespace bf::train
