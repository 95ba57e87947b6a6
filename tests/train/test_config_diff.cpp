// What a resume may change: the key-by-key difference of two configs.
#include <catch2/catch.hpp>

#include "train/config_diff.h"

using namespace bf;

TEST_CASE("resume config changes are classified", "[train][config]") {
  const auto changes = train::diff_yaml_configs("a: {b: 1, c: 2}\ntraining: {max_steps: 5}\n",
                                                "a: {b: 1, c: 3}\ntraining: {max_steps: 9}\n");
  REQUIRE(changes.size() == 2);
  REQUIRE(changes[0].key == "a.c");
  REQUIRE_FALSE(train::is_safe_resume_change("a.c"));
  REQUIRE(train::is_safe_resume_change("training.max_steps"));
  REQUIRE_FALSE(train::is_safe_resume_change("model.hidden_size"));
}

TEST_CASE("a checkpoint from before a key existed resumes when the key is at its old-behaviour default",
          "[train][config]") {
  const auto changes = train::diff_yaml_configs("training: {max_steps: 5}\n",
                                                "training: {max_steps: 5, loss_scaling: auto}\n");
  REQUIRE(changes.size() == 1);
  REQUIRE(train::is_added_with_default(changes[0]));
  const auto turned_on = train::diff_yaml_configs("training: {max_steps: 5}\n",
                                                  "training: {max_steps: 5, loss_scaling: dynamic}\n");
  REQUIRE_FALSE(train::is_added_with_default(turned_on[0]));
  const auto removed = train::diff_yaml_configs("training: {loss_scaling: auto}\n", "training: {}\n");
  REQUIRE_FALSE(train::is_added_with_default(removed[0]));
}
