#include "finetune/probe/probe_data.h"

#include <spdlog/spdlog.h>

#include "util/error.h"

namespace bf::ft {
namespace {

classify::ReadOptions read_options(const ProbeSection& s) {
  classify::ReadOptions o;
  o.format = s.format;
  o.columns.text = s.text_column;
  o.columns.text_pair = s.text_pair_column;
  o.columns.label = s.label_column;
  o.columns.names = s.columns;
  o.columns.has_header = s.columns.empty();
  o.task = TaskType::SingleLabel;
  o.max_seq_length = s.max_seq_length;
  return o;
}

}  // namespace

ProbeData load_probe_data(const ProbeSection& section, const tok::Tokenizer& tokenizer) {
  const auto options = read_options(section);
  classify::BadRowPolicy policy(false);
  const auto rows = classify::read_rows(section.train, options, policy);
  const auto labels = classify::build_label_map(rows, options);
  if (labels.size() < 2)
    bf::fail(section.train + ": the probe needs at least 2 classes (found " + std::to_string(labels.size()) + ")");
  ProbeData data;
  data.train = classify::make_dataset(section.train, rows, options, tokenizer, labels, policy);
  if (data.train.examples.empty()) bf::fail(section.train + ": no usable rows");
  // A dev label the train file never showed is an error naming its line.
  data.dev = classify::load_dataset(section.dev, options, tokenizer, labels);
  data.label_names = labels.names();
  data.pad_id = tokenizer.special_ids().pad;
  if (section.labels_per_class > 0)
    classify::keep_examples_per_class(data.train, section.labels_per_class, static_cast<std::uint64_t>(section.seed));
  return data;
}

}  // namespace bf::ft
