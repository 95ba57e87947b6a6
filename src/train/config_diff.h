#pragma once
// What changed between the config a checkpoint was trained with and the one a
// resume is started with, key path by key path.
#include <string>
#include <vector>

namespace bf::train {

struct ConfigChange {
  std::string key;  // e.g. "model.hidden_size"
  std::string before;
  std::string after;
};

std::vector<ConfigChange> diff_yaml_configs(const std::string& before_yaml, const std::string& after_yaml);

// Keys a resume may change without breaking the run: how long it runs, how
// often it evaluates, checkpoints and logs, and how many threads it uses.
bool is_safe_resume_change(const std::string& key);

// A key the saved config lacks because it was added to bertforge later, now
// at the default that keeps the older behaviour (e.g. training.loss_scaling: auto).
bool is_added_with_default(const ConfigChange& change);

}  // namespace bf::train
