#include "train/best_tracker.h"

#include <utility>

namespace bf::train {

BestTracker::BestTracker(std::string metric, bool higher_is_better, std::int64_t patience)
    : metric_(std::move(metric)), higher_is_better_(higher_is_better), patience_(patience) {}

bool BestTracker::update(const std::map<std::string, double>& metrics, std::int64_t step) {
  auto it = metrics.find(metric_);
  if (it == metrics.end()) return false;
  const double v = it->second;
  const bool improved = !best_ || (higher_is_better_ ? v > *best_ : v < *best_);
  if (improved) {
    best_ = v;
    best_step_ = step;
    evals_since_best_ = 0;
  } else {
    ++evals_since_best_;
  }
  return improved;
}

void BestTracker::note_checkpoint(std::int64_t step, const std::string& name) {
  if (best_ && step == best_step_) best_checkpoint_ = name;
}

nlohmann::json BestTracker::state() const {
  return {{"metric", metric_},
          {"value", best_ ? nlohmann::json(*best_) : nlohmann::json()},
          {"step", best_step_},
          {"evals_since_best", evals_since_best_},
          {"checkpoint", best_checkpoint_}};
}

void BestTracker::restore(const nlohmann::json& st) {
  best_.reset();
  best_step_ = -1;
  evals_since_best_ = 0;
  best_checkpoint_.clear();
  if (st.contains("best") && st["best"].is_object()) {
    const auto& b = st["best"];
    if (b.contains("value") && b["value"].is_number()) best_ = b["value"].get<double>();
    best_step_ = b.value("step", std::int64_t{-1});
    evals_since_best_ = b.value("evals_since_best", std::int64_t{0});
    best_checkpoint_ = b.value("checkpoint", std::string());
    return;
  }
  // Checkpoints written before the tracker existed.
  if (st.contains("best_eval") && st["best_eval"].is_number()) best_ = st["best_eval"].get<double>();
  if (st.contains("data") && st["data"].is_object()) {
    const auto& d = st["data"];
    if (d.contains("best") && d["best"].is_number()) best_ = d["best"].get<double>();
    evals_since_best_ = d.value("evals_since_best", std::int64_t{0});
  }
}

}  // namespace bf::train
