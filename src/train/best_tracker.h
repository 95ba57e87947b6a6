#pragma once
// The one place a run decides what "best" is: the metric and its direction,
// the best value and the step it was evaluated at, how many evaluations came
// since (early stopping), and which checkpoint holds it (kept by pruning).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bf::train {

class BestTracker {
 public:
  BestTracker(std::string metric, bool higher_is_better, std::int64_t patience = 0);

  // Records an evaluation at `step`; true when it holds the metric and beats
  // the best so far (the first value always does).
  bool update(const std::map<std::string, double>& metrics, std::int64_t step);
  // patience > 0 and that many evaluations without a better value.
  bool out_of_patience() const { return patience_ > 0 && evals_since_best_ >= patience_; }

  // Called when a checkpoint is written at `step`: it holds the best weights
  // when the best evaluation was made at that very step.
  void note_checkpoint(std::int64_t step, const std::string& name);

  const std::string& metric() const { return metric_; }
  bool higher_is_better() const { return higher_is_better_; }
  std::optional<double> best() const { return best_; }
  std::int64_t best_step() const { return best_step_; }
  std::int64_t evals_since_best() const { return evals_since_best_; }
  const std::string& best_checkpoint() const { return best_checkpoint_; }

  nlohmann::json state() const;
  // Also reads the fields older checkpoints kept elsewhere (trainer_state's
  // best_eval, the fine-tuning data cursor's best/evals_since_best).
  void restore(const nlohmann::json& trainer_state);

 private:
  std::string metric_;
  bool higher_is_better_;
  std::int64_t patience_;
  std::optional<double> best_;
  std::int64_t best_step_ = -1;
  std::int64_t evals_since_best_ = 0;
  std::string best_checkpoint_;
};

}  // namespace bf::train
