#include "train/config_diff.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

namespace bf::train {
namespace {

void flatten(const YAML::Node& node, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      const auto key = item.first.as<std::string>();
      flatten(item.second, prefix.empty() ? key : prefix + "." + key, out);
    }
    return;
  }
  YAML::Emitter e;
  e << YAML::Flow << node;
  out[prefix] = e.c_str();
}

}  // namespace

std::vector<ConfigChange> diff_yaml_configs(const std::string& before_yaml, const std::string& after_yaml) {
  std::map<std::string, std::string> a, b;
  flatten(YAML::Load(before_yaml), "", a);
  flatten(YAML::Load(after_yaml), "", b);
  std::vector<ConfigChange> changes;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    const std::string after = it == b.end() ? "(absent)" : it->second;
    if (after != value) changes.push_back({key, value, after});
  }
  for (const auto& [key, value] : b)
    if (!a.count(key)) changes.push_back({key, "(absent)", value});
  return changes;
}

bool is_added_with_default(const ConfigChange& c) {
  // Keys added after checkpoints were written, whose defaults do what the
  // older code did: a checkpoint without them resumes as if they were set so.
  static const std::map<std::string, std::string> defaults = {
      {"training.loss_scaling", "auto"},
      {"training.loss_scale_init", "65536"},
      {"training.loss_scale_growth_interval", "2000"},
      {"checkpoint.on_write_error", "stop"},
      // Fine-tuning keys of token classification, QA and headerless files.
      {"data.columns", "[]"},
      {"data.has_header", "true"},
      {"data.tag_scheme", "iob2"},
      {"data.strict_tags", "false"},
      {"data.label_all_pieces", "false"},
      {"data.window_stride", "-1"},
      {"data.doc_stride", "128"},
      {"data.max_query_length", "64"},
      {"data.n_best_size", "20"},
      {"data.max_answer_length", "30"},
      {"data.null_score_diff_threshold", "0"},
      {"data.qa_metric", "auto"},
      {"data.labels_per_class", "0"},
      // Pretraining: the masking strategies' parameters (yaml-cpp writes doubles with 17 digits).
      {"data.span_p", "0.20000000000000001"},
      {"data.span_max_words", "10"},
      {"data.ngram_max", "3"},
      // Pretraining: word segmentation at build time (off: the shards as before).
      {"data.word_segmentation", "none"},
      {"data.word_refs", "\"\""},
      {"data.user_words", "\"\""},
  };
  // New spellings of old keys: the old key (data.nsp, data.whole_word_masking)
  // stays in every saved config and is compared, so the new key holds
  // whichever of these the old one implies.
  static const std::multimap<std::string, std::string> spelled_by_old_key = {
      {"data.pair_task", "nsp"},   {"data.pair_task", "none"},
      {"data.mask_unit", "token"}, {"data.mask_unit", "whole_word"},
  };
  if (c.before != "(absent)") return false;
  auto it = defaults.find(c.key);
  if (it != defaults.end()) return it->second == c.after;
  const auto [first, last] = spelled_by_old_key.equal_range(c.key);
  return std::any_of(first, last, [&](const auto& entry) { return entry.second == c.after; });
}

bool is_safe_resume_change(const std::string& key) {
  static const char* safe_prefixes[] = {"training.max_steps", "training.max_epochs", "training.max_time_minutes",
                                        "training.session_steps",
                                        "eval.", "checkpoint.", "logging.", "run.threads", "run.name",
                                        "data.loader_threads", "data.prefetch_batches", "data.build_threads",
                                        "distributed."};
  for (const char* p : safe_prefixes)
    if (key.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace bf::train
