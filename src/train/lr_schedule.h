#pragma once
// Learning-rate schedules as pure functions of the step, so a resumed run
// needs no scheduler state. Conventions are Hugging Face's (LambdaLR):
// lr_at(s) is the rate of the (s+1)-th update, warmup multiplier s/warmup
// (so the very first update has lr 0 when there is warmup).
#include <cstdint>
#include <string>

#include "util/config_reader.h"

namespace bf::train {

struct ScheduleConfig {
  // linear: warmup, then linear decay to 0 (BERT) | cosine | constant |
  // polynomial | wsd: warmup, stable at peak, cosine decay over the last
  // decay_ratio of the steps.
  std::string name = "linear";
  std::int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;  // of total steps, rounded up; exclusive with warmup_steps
  double min_lr_ratio = 0.0;  // floor as a fraction of peak (cosine, polynomial, wsd)
  double power = 1.0;         // polynomial
  double decay_ratio = 0.1;   // wsd

  template <class V>
  void visit(V& v) {
    v.field("name", name, one_of({"linear", "cosine", "constant", "polynomial", "wsd"}));
    v.field("warmup_steps", warmup_steps, non_negative<std::int64_t>());
    v.field("warmup_ratio", warmup_ratio, in_range(0.0, 1.0));
    v.field("min_lr_ratio", min_lr_ratio, in_range(0.0, 1.0));
    v.field("power", power, positive<double>());
    v.field("decay_ratio", decay_ratio, in_range(0.0, 1.0));
    if (warmup_steps > 0 && warmup_ratio > 0.0) {
      v.invalid("warmup_ratio", "set warmup_steps or warmup_ratio, not both");
    }
  }
};

class LrSchedule {
 public:
  LrSchedule(ScheduleConfig config, double peak_lr, std::int64_t total_steps);

  // Learning rate of the (step+1)-th update; step is 0-based.
  double lr_at(std::int64_t step) const { return peak_lr_ * multiplier(step); }
  // Fraction of the peak at that step.
  double multiplier(std::int64_t step) const;
  std::int64_t warmup_steps() const { return warmup_; }
  std::int64_t total_steps() const { return total_; }
  double peak_lr() const { return peak_lr_; }

 private:
  double decay(std::int64_t step) const;

  ScheduleConfig config_;
  double peak_lr_;
  std::int64_t total_;
  std::int64_t warmup_;
  std::int64_t decay_start_;  // wsd: first step of the decay phase
};

}  // namespace bf::train
