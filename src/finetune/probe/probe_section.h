#pragma once
// The probe's settings: a pretraining config's `eval.probe` section and the
// flags of `bertforge probe`. A probe measures what an encoder is worth on a
// labelled task, cheaply enough to run at every evaluation of a pretraining
// run: a linear classifier on frozen mean-pooled features, or a short fixed
// fine-tuning from a copy of the weights.
#include <cstdint>
#include <string>
#include <vector>

#include "util/config_reader.h"

namespace bf::ft {

enum class ProbeMode { Linear, Finetune };

inline const EnumNames<ProbeMode>& probe_mode_names() {
  static const EnumNames<ProbeMode> names{{{ProbeMode::Linear, "linear"}, {ProbeMode::Finetune, "finetune"}}};
  return names;
}

struct ProbeSection {
  std::string train;               // labelled file, any fine-tuning format; empty = no probe
  std::string dev;                 // scored file
  std::string format = "auto";     // as data.format of fine-tuning
  std::string text_column = "text";
  std::string text_pair_column;    // empty: single texts
  std::string label_column = "label";
  std::vector<std::string> columns;  // headerless TSV/CSV: the columns' names in order
  std::int64_t max_seq_length = 128;
  ProbeMode mode = ProbeMode::Linear;
  std::int64_t every_evals = 1;     // probe at every n-th evaluation
  std::int64_t labels_per_class = 0;  // keep this many training examples per class; 0 = all
  std::int64_t seed = 0;            // the probe's own generator (subsampling, fine-tuning)
  // linear: L2 penalty on the weights, per mean example; 0 = 1 / examples,
  // scikit-learn's LogisticRegression default (C = 1).
  double l2 = 0;
  std::int64_t max_iterations = 500;  // L-BFGS iterations (linear)
  // finetune: steps, learning rate and batch of the short fine-tuning.
  std::int64_t steps = 100;
  double lr = 1e-4;
  std::int64_t batch_size = 32;

  bool enabled() const { return !train.empty(); }

  template <class V>
  void visit(V& v) {
    v.field("train", train);
    v.field("dev", dev);
    v.field("format", format, one_of({"auto", "tsv", "csv", "jsonl"}));
    v.field("text_column", text_column);
    v.field("text_pair_column", text_pair_column);
    v.field("label_column", label_column);
    v.field("columns", columns);
    v.field("max_seq_length", max_seq_length, in_range<std::int64_t>(8, 1 << 16));
    v.choice("mode", mode, probe_mode_names());
    v.field("every_evals", every_evals, in_range<std::int64_t>(1, 1 << 30));
    v.field("labels_per_class", labels_per_class, non_negative<std::int64_t>());
    v.field("seed", seed, non_negative<std::int64_t>());
    v.field("l2", l2, non_negative<double>());
    v.field("max_iterations", max_iterations, in_range<std::int64_t>(1, 1 << 20));
    v.field("steps", steps, in_range<std::int64_t>(1, 1 << 30));
    v.field("lr", lr, positive<double>());
    v.field("batch_size", batch_size, in_range<std::int64_t>(1, 1 << 20));
    if (!train.empty() && dev.empty()) v.invalid("dev", "required when train is set (the probe scores on it)");
    if (train.empty() && !dev.empty()) v.invalid("train", "required when dev is set (the probe learns from it)");
  }
};

}  // namespace bf::ft
