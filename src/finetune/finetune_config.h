#pragma once
// The fine-tuning run config: one YAML file with sections run, model, data,
// optimizer, schedule, training, eval, checkpoint, logging. The run, optimizer,
// schedule, training, checkpoint and logging sections are the pretraining
// ones: one trainer serves both jobs.
#include <optional>
#include <string>
#include <vector>

#include "dist/distributed_section.h"
#include "finetune/classify/dataset.h"
#include "finetune/qa/qa_metrics.h"
#include "finetune/tagging/tag_scheme.h"
#include "model/classifier_heads.h"
#include "model/model_section.h"
#include "train/train_config.h"
#include "util/config_reader.h"

namespace bf::ft {

// init_from (a bertforge checkpoint or run directory, or an HF model
// directory) gives the encoder; without it the model is built from the preset
// and overrides with random weights (a baseline), and `tokenizer` is needed.
struct FinetuneModelSection {
  model::ModelSection arch;
  std::string tokenizer;  // default: the tokenizer stored with init_from
  model::HeadOptions head;
  std::optional<double> classifier_dropout;
  template <class V>
  void visit(V& v) {
    arch.visit(v);
    v.field("tokenizer", tokenizer);
    v.section("head", head);
    v.field("classifier_dropout", classifier_dropout);
  }
};

// What a malformed row of a labelled file does: stop the run, or be skipped (counted and logged).
enum class OnBadRow { Error, Skip };
const EnumNames<OnBadRow>& on_bad_row_names();

const EnumNames<tagging::TagScheme>& tag_scheme_names();
const EnumNames<qa::QaMetric>& qa_metric_names();

// One `data:` section for every task; the keys after `class_weights` belong
// to token classification and question answering (docs/finetuning.md).
struct FinetuneDataSection {
  std::string train;
  std::string dev;
  std::string test;
  std::string format = "auto";          // auto | tsv | csv | jsonl | conll (token classification) | json (SQuAD)
  std::string text_column = "text";
  std::string text_pair_column;         // empty: single texts
  std::string label_column = "label";
  TaskType task = TaskType::SingleLabel;
  std::string label_separator = ",";    // multi-label cells of TSV/CSV
  std::vector<std::string> labels;      // fixes the class order; default: from the training set
  std::int64_t max_seq_length = 128;
  OnBadRow on_bad_row = OnBadRow::Error;
  bool shuffle = true;
  bool group_by_length = false;
  std::string class_weights = "none";   // none | balanced | "w0,w1,..." (single-label)
  // Few-label training: keep this many training examples of each class,
  // drawn with run.seed (single-label); 0 = all.
  std::int64_t labels_per_class = 0;
  // TSV/CSV without a header row: the columns' names in order, or
  // has_header false to call them 0, 1, ... (text_column: 0).
  std::vector<std::string> columns;
  bool has_header = true;
  // token_classification
  tagging::TagScheme tag_scheme = tagging::TagScheme::Iob2;  // of the files; converted to IOB2 on read
  bool strict_tags = false;              // an I- tag of a type that never began is a bad row
  bool label_all_pieces = false;         // label every piece of a word, not only its first
  std::int64_t window_stride = -1;       // pieces shared by windows of a long sentence; -1 = half a window
  // question_answering (Google's run_squad settings)
  std::int64_t doc_stride = 128;
  std::int64_t max_query_length = 64;
  std::int64_t n_best_size = 20;
  std::int64_t max_answer_length = 30;   // in pieces
  double null_score_diff_threshold = 0.0;
  qa::QaMetric qa_metric = qa::QaMetric::Auto;  // squad | cmrc | auto (by the contexts' script)
  template <class V>
  void visit(V& v) {
    v.required("train", train);
    v.field("dev", dev);
    v.field("test", test);
    v.field("format", format, one_of({"auto", "tsv", "csv", "jsonl", "conll", "json"}));
    v.field("text_column", text_column);
    v.field("text_pair_column", text_pair_column);
    v.field("label_column", label_column);
    v.choice("task", task, task_names());
    v.field("label_separator", label_separator);
    v.field("labels", labels);
    v.field("max_seq_length", max_seq_length, in_range<std::int64_t>(4, 1 << 16));
    v.choice("on_bad_row", on_bad_row, on_bad_row_names());
    v.field("shuffle", shuffle);
    v.field("group_by_length", group_by_length);
    v.field("class_weights", class_weights);
    v.field("labels_per_class", labels_per_class, non_negative<std::int64_t>());
    if (labels_per_class > 0 && task != TaskType::SingleLabel)
      v.invalid("labels_per_class", "applies to single-label classification only");
    v.field("columns", columns);
    v.field("has_header", has_header);
    v.choice("tag_scheme", tag_scheme, tag_scheme_names());
    v.field("strict_tags", strict_tags);
    v.field("label_all_pieces", label_all_pieces);
    v.field("window_stride", window_stride, in_range<std::int64_t>(-1, 1 << 16));
    v.field("doc_stride", doc_stride, in_range<std::int64_t>(1, 1 << 16));
    v.field("max_query_length", max_query_length, in_range<std::int64_t>(1, 1 << 16));
    v.field("n_best_size", n_best_size, in_range<std::int64_t>(1, 1000));
    v.field("max_answer_length", max_answer_length, in_range<std::int64_t>(1, 1 << 16));
    v.field("null_score_diff_threshold", null_score_diff_threshold);
    v.choice("qa_metric", qa_metric, qa_metric_names());
  }
  classify::ReadOptions read_options() const;
};

struct FinetuneEvalSection {
  std::int64_t every_steps = 0;  // > 0: every N steps; 0: at the end of each epoch
  std::int64_t batch_size = 64;
  std::string metric;            // best-model metric; default accuracy | micro_f1 | pearson | f1 by task
  std::int64_t patience = 0;     // stop after this many evals without improvement; 0 = never
  template <class V>
  void visit(V& v) {
    v.field("every_steps", every_steps, non_negative<std::int64_t>());
    v.field("batch_size", batch_size, in_range<std::int64_t>(1, 1 << 20));
    v.field("metric", metric, one_of({"", "loss", "accuracy", "macro_f1", "f1", "mcc", "micro_f1", "exact_match",
                                      "pearson", "spearman", "mse", "precision", "recall"}));
    v.field("patience", patience, non_negative<std::int64_t>());
  }
};

struct FinetuneConfig {
  train::RunSection run;
  FinetuneModelSection model;
  FinetuneDataSection data;
  train::OptimizerConfig optimizer;
  train::ScheduleConfig schedule;
  train::TrainingSection training;
  FinetuneEvalSection eval;
  train::CheckpointSection checkpoint;
  train::LoggingSection logging;
  dist::DistributedSection distributed;

  template <class V>
  void visit(V& v) {
    v.section("run", run);
    v.section("model", model);
    v.section("data", data);
    v.section("optimizer", optimizer);
    v.section("schedule", schedule);
    v.section("training", training);
    v.section("eval", eval);
    v.section("checkpoint", checkpoint);
    v.section("logging", logging);
    v.section("distributed", distributed);
  }

  TaskType task() const { return data.task; }
  std::string best_metric() const;
};

FinetuneConfig load_finetune_config(const std::string& file, const std::vector<std::string>& overrides = {});

// Files named by the config that do not exist, an unwritable output
// directory, a missing tokenizer for a from-scratch model. Empty when fine.
std::vector<std::string> check_finetune_paths(const FinetuneConfig& config);

// Fine-tuning configs name labelled files (data.train); pretraining ones a
// tokenizer and corpus inputs. Unreadable YAML counts as not fine-tuning (the
// pretraining parser then reports it with the line).
bool is_finetune_config(const std::string& file);

// The model directory a model.init_from value names: itself when it holds a
// config.json, else a run's exported model/ or newest checkpoint.
std::string resolve_model_dir(const std::string& path);

// class_weights: "none" -> {}, "balanced" -> n / (k * count_c), "a,b,..." -> as given.
std::vector<double> class_weights_for(const std::string& setting, const classify::Dataset& train);

}  // namespace bf::ft
