#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace bf::train {

namespace {

constexpr double kPi = 3.14159265358979323846;

// 1 at progress 0, 0 at progress 1 (half a cosine period).
double half_cosine(double progress) { return 0.5 * (1.0 + std::cos(kPi * progress)); }

std::int64_t ceil_fraction(double ratio, std::int64_t total) {
  return static_cast<std::int64_t>(std::ceil(ratio * static_cast<double>(total) - 1e-9));
}

}  // namespace

LrSchedule::LrSchedule(ScheduleConfig config, double peak_lr, std::int64_t total_steps)
    : config_(std::move(config)), peak_lr_(peak_lr), total_(total_steps) {
  if (total_ <= 0) bf::fail("schedule: total steps must be > 0 (got " + std::to_string(total_) + ")");
  if (config_.warmup_steps > 0 && config_.warmup_ratio > 0.0) {
    bf::fail("schedule: set warmup_steps or warmup_ratio, not both");
  }
  warmup_ = config_.warmup_ratio > 0.0 ? ceil_fraction(config_.warmup_ratio, total_) : config_.warmup_steps;
  if (warmup_ > total_) {
    bf::fail("schedule: warmup_steps (" + std::to_string(warmup_) + ") exceeds the run's total steps (" +
             std::to_string(total_) + ")");
  }
  const std::int64_t decay_steps = std::min(ceil_fraction(config_.decay_ratio, total_), total_ - warmup_);
  decay_start_ = total_ - decay_steps;
  static const char* const known[] = {"linear", "cosine", "constant", "polynomial", "wsd"};
  if (std::find(std::begin(known), std::end(known), config_.name) == std::end(known)) {
    bf::fail("schedule.name: unknown schedule '" + config_.name + "'");
  }
}

double LrSchedule::multiplier(std::int64_t step) const {
  if (step < warmup_) return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup_));
  return decay(step);
}

// Past total_steps every schedule stays at its final value (HF's cosine would
// rise again; a run extended past its plan should not).
double LrSchedule::decay(std::int64_t step) const {
  const double floor = config_.min_lr_ratio;
  const auto decay_steps = static_cast<double>(std::max<std::int64_t>(1, total_ - warmup_));
  const double progress = std::min(1.0, static_cast<double>(step - warmup_) / decay_steps);
  if (config_.name == "constant") return 1.0;
  if (config_.name == "linear") {
    return std::max(0.0, static_cast<double>(total_ - std::min(step, total_)) / decay_steps);
  }
  if (config_.name == "cosine") return half_cosine(progress) * (1.0 - floor) + floor;
  if (config_.name == "polynomial") {
    // HF: (peak - end) * (1 - progress)^power + end, with end = min_lr_ratio * peak.
    return (1.0 - floor) * std::pow(1.0 - progress, config_.power) + floor;
  }
  // wsd
  if (step < decay_start_) return 1.0;
  const auto wsd_steps = static_cast<double>(std::max<std::int64_t>(1, total_ - decay_start_));
  const double wsd_progress = std::min(1.0, static_cast<double>(step - decay_start_) / wsd_steps);
  return half_cosine(wsd_progress) * (1.0 - floor) + floor;
}

}  // namespace bf::train
