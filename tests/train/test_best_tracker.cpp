// The one "best" of a run: direction, patience, the checkpoint that holds it,
// and checkpoints written before the tracker existed.
#include <catch2/catch.hpp>

#include "train/best_tracker.h"

using namespace bf;

TEST_CASE("the best tracker follows the metric's direction and counts evaluations since the best",
          "[train][best]") {
  train::BestTracker lower("loss", /*higher_is_better=*/false, /*patience=*/2);
  CHECK(lower.update({{"loss", 3.0}}, 10));
  CHECK_FALSE(lower.update({{"loss", 3.5}}, 20));
  CHECK_FALSE(lower.out_of_patience());
  CHECK(lower.update({{"loss", 2.0}}, 30));
  CHECK(lower.best_step() == 30);
  CHECK_FALSE(lower.update({{"loss", 2.0}}, 40));  // equal is not better
  CHECK_FALSE(lower.update({{"loss", 9.0}}, 50));
  CHECK(lower.out_of_patience());
  CHECK_FALSE(lower.update({{"accuracy", 1.0}}, 60));  // without the metric: no evaluation counted
  CHECK(lower.evals_since_best() == 2);

  train::BestTracker higher("f1", /*higher_is_better=*/true);
  CHECK(higher.update({{"f1", 0.2}}, 1));
  CHECK(higher.update({{"f1", 0.5}}, 2));
  CHECK_FALSE(higher.update({{"f1", 0.4}}, 3));
  CHECK(*higher.best() == 0.5);
  CHECK_FALSE(higher.out_of_patience());  // patience 0: never
}

TEST_CASE("the best checkpoint is the one written at the best evaluation's step", "[train][best]") {
  train::BestTracker t("loss", false);
  t.note_checkpoint(5, "step-00000005");
  CHECK(t.best_checkpoint().empty());  // no evaluation yet
  t.update({{"loss", 1.0}}, 10);
  t.note_checkpoint(10, "step-00000010");
  t.update({{"loss", 2.0}}, 20);
  t.note_checkpoint(20, "step-00000020");
  CHECK(t.best_checkpoint() == "step-00000010");
}

TEST_CASE("the tracker's state round-trips and reads what older checkpoints kept", "[train][best]") {
  train::BestTracker t("accuracy", true, 3);
  t.update({{"accuracy", 0.7}}, 4);
  t.update({{"accuracy", 0.6}}, 8);
  t.note_checkpoint(4, "step-00000004");
  train::BestTracker back("accuracy", true, 3);
  back.restore({{"best", t.state()}});
  CHECK(*back.best() == 0.7);
  CHECK(back.best_step() == 4);
  CHECK(back.evals_since_best() == 1);
  CHECK(back.best_checkpoint() == "step-00000004");

  // Before the tracker: trainer_state.best_eval, and fine-tuning's data cursor.
  train::BestTracker old("accuracy", true, 3);
  old.restore({{"best_eval", 0.8}, {"data", {{"epoch", 1}, {"best", 0.8}, {"evals_since_best", 2}}}});
  CHECK(*old.best() == 0.8);
  CHECK(old.evals_since_best() == 2);
}
