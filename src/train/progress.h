#pragma once
// Training progress: on a terminal, one self-rewriting line (step/total,
// loss, lr, tokens/s, ETA); elsewhere a plain log line every interval_s.
// Either way, output is rate-limited: update() may be called every step.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bf::train {

struct ProgressOptions {
  double interval_s = 30.0;       // between log lines when stderr is not a terminal
  double tty_interval_s = 0.25;   // between redraws on a terminal
  std::optional<bool> tty;        // unset: isatty(stderr)
  bool enabled = true;            // false: silent (the other ranks of a data-parallel run)
};

class Progress {
 public:
  Progress(std::int64_t total_steps, std::int64_t start_step, ProgressOptions options = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // step = updates done so far; values: "loss", "lr", "tokens_per_s" (or
  // "tokens/s"), and any other numbers to show.
  void update(std::int64_t step, const std::map<std::string, double>& values);
  // Prints the last state once more and ends the terminal line.
  void finish();
  // Ends the terminal line without printing, so a log message can follow.
  void break_line();

 private:
  void print(bool final);
  double eta_seconds(std::int64_t step) const;

  std::int64_t total_;
  std::int64_t start_step_;
  ProgressOptions options_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  std::int64_t step_;
  std::map<std::string, double> values_;
  bool line_open_ = false;
  bool finished_ = false;
};

// "1h02m", "3m05s", "42s"; "?" for negative or non-finite.
std::string format_duration(double seconds);
// The progress text without terminal control, e.g.
// "step 120/1000 (12.0%) | loss 6.2315 | lr 1.20e-04 | 5.3k tok/s | ETA 4m10s".
std::string format_progress(std::int64_t step, std::int64_t total, const std::map<std::string, double>& values,
                            double eta_seconds);

}  // namespace bf::train
