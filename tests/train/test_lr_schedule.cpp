// Learning-rate schedules against hand-computed values (Hugging Face's
// conventions: lr_at(s) is the rate of the (s+1)-th update).
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <cmath>

#include "train/lr_schedule.h"
#include "util/config_reader.h"
#include "util/error.h"

using namespace bf;
using train::LrSchedule;
using train::ScheduleConfig;

namespace {

ScheduleConfig schedule(const std::string& name, std::int64_t warmup, double min_lr_ratio = 0.0) {
  ScheduleConfig c;
  c.name = name;
  c.warmup_steps = warmup;
  c.min_lr_ratio = min_lr_ratio;
  return c;
}

}  // namespace

TEST_CASE("linear: warmup then linear decay to zero", "[train][schedule]") {
  LrSchedule s(schedule("linear", 2), 1e-3, 10);
  CHECK(s.warmup_steps() == 2);
  CHECK(s.lr_at(0) == 0.0);  // HF: the first update of a warmup has lr 0
  CHECK(s.lr_at(1) == Approx(0.5e-3));
  CHECK(s.lr_at(2) == Approx(1e-3));
  CHECK(s.lr_at(3) == Approx(1e-3 * 7.0 / 8.0));
  CHECK(s.lr_at(6) == Approx(0.5e-3));
  CHECK(s.lr_at(9) == Approx(1e-3 / 8.0));
  CHECK(s.lr_at(10) == 0.0);
  CHECK(s.lr_at(50) == 0.0);
}

TEST_CASE("linear without warmup starts at the peak", "[train][schedule]") {
  LrSchedule s(schedule("linear", 0), 2.0, 4);
  CHECK(s.lr_at(0) == 2.0);
  CHECK(s.lr_at(1) == 1.5);
  CHECK(s.lr_at(3) == 0.5);
}

TEST_CASE("cosine: half a period from peak to the floor", "[train][schedule]") {
  LrSchedule s(schedule("cosine", 2), 1.0, 10);
  CHECK(s.lr_at(1) == Approx(0.5));
  CHECK(s.lr_at(2) == Approx(1.0));
  CHECK(s.lr_at(4) == Approx(0.5 * (1.0 + std::cos(M_PI / 4))));  // 0.853553
  CHECK(s.lr_at(6) == Approx(0.5));
  CHECK(s.lr_at(10) == Approx(0.0).margin(1e-12));
  CHECK(s.lr_at(14) == Approx(0.0).margin(1e-12));  // stays down past the end

  LrSchedule floored(schedule("cosine", 2, 0.1), 1.0, 10);
  CHECK(floored.lr_at(6) == Approx(0.55));
  CHECK(floored.lr_at(10) == Approx(0.1));
}

TEST_CASE("constant: warmup then the peak forever", "[train][schedule]") {
  LrSchedule s(schedule("constant", 4), 3e-4, 100);
  CHECK(s.lr_at(1) == Approx(0.75e-4));
  CHECK(s.lr_at(4) == 3e-4);
  CHECK(s.lr_at(99) == 3e-4);
  CHECK(s.lr_at(1000) == 3e-4);
}

TEST_CASE("polynomial: (1 - progress)^power down to the floor", "[train][schedule]") {
  auto c = schedule("polynomial", 0, 0.1);
  c.power = 2.0;
  LrSchedule s(c, 1.0, 10);
  CHECK(s.lr_at(0) == Approx(1.0));
  CHECK(s.lr_at(5) == Approx(0.9 * 0.25 + 0.1));
  CHECK(s.lr_at(10) == Approx(0.1));
  CHECK(s.lr_at(20) == Approx(0.1));

  c.power = 1.0;
  c.min_lr_ratio = 0.0;
  c.warmup_steps = 2;
  LrSchedule linear_like(c, 1.0, 10);
  CHECK(linear_like.lr_at(6) == Approx(0.5));
}

TEST_CASE("wsd: warmup, stable at the peak, cosine decay at the end", "[train][schedule]") {
  auto c = schedule("wsd", 10);
  c.decay_ratio = 0.2;
  LrSchedule s(c, 1.0, 100);
  CHECK(s.lr_at(5) == Approx(0.5));
  CHECK(s.lr_at(10) == 1.0);
  CHECK(s.lr_at(79) == 1.0);
  CHECK(s.lr_at(80) == Approx(1.0));
  CHECK(s.lr_at(90) == Approx(0.5));
  CHECK(s.lr_at(100) == Approx(0.0).margin(1e-12));

  c.min_lr_ratio = 0.1;
  LrSchedule floored(c, 1.0, 100);
  CHECK(floored.lr_at(90) == Approx(0.55));
  CHECK(floored.lr_at(120) == Approx(0.1));
}

TEST_CASE("warmup_ratio is a fraction of the total, rounded up", "[train][schedule]") {
  ScheduleConfig c;
  c.warmup_ratio = 0.06;
  CHECK(LrSchedule(c, 1.0, 1000).warmup_steps() == 60);
  c.warmup_ratio = 0.1;
  CHECK(LrSchedule(c, 1.0, 15).warmup_steps() == 2);
  CHECK(LrSchedule(c, 1.0, 15).lr_at(1) == Approx(0.5));
}

TEST_CASE("schedule misconfigurations are errors", "[train][schedule]") {
  CHECK_THROWS_WITH(LrSchedule(schedule("linear", 20), 1.0, 10), Catch::Contains("warmup_steps"));
  CHECK_THROWS_AS(LrSchedule(schedule("linear", 0), 1.0, 0), bf::Error);

  const auto both = YAML::Load("name: cosine\nwarmup_steps: 100\nwarmup_ratio: 0.1\n");
  CHECK_THROWS_WITH(read_config_node<ScheduleConfig>(both, "run.yaml"),
                    Catch::Contains("warmup_ratio") && Catch::Contains("not both"));
  const auto bad_name = YAML::Load("name: cosin\n");
  CHECK_THROWS_WITH(read_config_node<ScheduleConfig>(bad_name, "run.yaml"), Catch::Contains("name"));
  const auto ok = read_config_node<ScheduleConfig>(YAML::Load("name: wsd\nwarmup_ratio: 0.05\ndecay_ratio: 0.2\n"), "run.yaml");
  CHECK(ok.name == "wsd");
  CHECK(ok.decay_ratio == 0.2);
}
