#pragma once
// A labelled file, read, checked and tokenized once into examples; batches
// padded to their own longest sequence (dynamic padding).
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "finetune/labels.h"
#include "finetune/row_reader.h"
#include "tokenizer/tokenizer.h"

namespace bf::ft::classify {

struct ReadOptions {
  std::string format = "auto";
  Columns columns;
  TaskType task = TaskType::SingleLabel;
  std::string label_separator = ",";  // multi-label cells in TSV/CSV
  std::int64_t max_seq_length = 128;
  bool skip_bad_rows = false;         // on_bad_row: skip (counted and logged) instead of error
};

struct Example {
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;
  std::int64_t label = -1;             // single-label class id
  std::vector<std::int64_t> label_ids; // multi-label class ids
  double value = 0;                    // regression target
  bool has_label = false;
  std::int64_t line = 0;
};

struct Dataset {
  std::string path;
  TaskType task = TaskType::SingleLabel;
  std::int64_t num_labels = 0;
  std::vector<Example> examples;
  std::int64_t skipped = 0;

  std::int64_t size() const { return static_cast<std::int64_t>(examples.size()); }
  std::vector<std::int64_t> lengths() const;
};

// Counts skipped rows, or rethrows, as the policy says; logs the first few.
class BadRowPolicy {
 public:
  explicit BadRowPolicy(bool skip) : skip_(skip) {}
  void handle(const BadRow& problem);
  std::int64_t skipped() const { return skipped_; }

 private:
  bool skip_;
  std::int64_t skipped_ = 0;
};

// Every row of the file; malformed rows follow the policy.
std::vector<Row> read_rows(const std::string& path, const ReadOptions& options, BadRowPolicy& policy);

// The label map of a training set (single- and multi-label tasks).
LabelMap build_label_map(const std::vector<Row>& rows, const ReadOptions& options);

// Labels checked against `labels` (an unknown label is a bad row), texts
// tokenized on all cores. With labels_required false (predict), rows without
// a label are kept unlabelled.
Dataset make_dataset(const std::string& path, const std::vector<Row>& rows, const ReadOptions& options,
                     const tok::Tokenizer& tokenizer, const LabelMap& labels, BadRowPolicy& policy,
                     bool labels_required = true);

// read_rows + make_dataset, with the skipped rows logged.
Dataset load_dataset(const std::string& path, const ReadOptions& options, const tok::Tokenizer& tokenizer,
                     const LabelMap& labels);

struct Batch {
  torch::Tensor input_ids;       // [B, S] int64, S = the longest sequence of this batch
  torch::Tensor token_type_ids;  // [B, S]
  torch::Tensor attention_mask;  // [B, S]
  torch::Tensor labels;          // [B] int64 | [B, C] float multi-hot | [B] float; undefined without labels
  std::vector<std::int64_t> index;
  std::int64_t tokens = 0;       // real (unpadded) tokens
};

// The first `per_class` examples of each class in an order drawn from `seed`
// (all of a class that has fewer), as indices in file order.
std::vector<std::int64_t> examples_per_class(const Dataset& data, std::int64_t per_class, std::uint64_t seed);
// Keeps only those examples: few-label training sets (data.labels_per_class,
// eval.probe.labels_per_class).
void keep_examples_per_class(Dataset& data, std::int64_t per_class, std::uint64_t seed);

Batch collate(const Dataset& data, const std::vector<std::int64_t>& index, std::int32_t pad_id);

}  // namespace bf::ft::classify
