#pragma once
// The fine-tuning run config: one YAML file with sections run, model, data,
// optimizer, schedule, training, eval, checkpoint, logging. The run, optimizer,
// schedule, training, checkpoint and logging sections are the pretraining
// ones: one trainer serves both jobs.
#include <optional>
#include <string>
#include <vector>

#include "finetune/dataset.h"
#include "model/classifier_heads.h"
#include "train/train_config.h"
#include "util/config_reader.h"

namespace bf::ft {

struct HeadSection {
  std::string type = "pooler";
  std::int64_t layer = -1;
  std::int64_t weighted_layers = 0;
  std::int64_t attention_heads = 0;
  std::int64_t mlp_hidden = 0;
  template <class V>
  void visit(V& v) {
    v.field("type", type, one_of(model::HeadOptions::types()));
    v.field("layer", layer);
    v.field("weighted_layers", weighted_layers, non_negative<std::int64_t>());
    v.field("attention_heads", attention_heads, non_negative<std::int64_t>());
    v.field("mlp_hidden", mlp_hidden, non_negative<std::int64_t>());
  }
  model::HeadOptions options() const { return {type, layer, weighted_layers, attention_heads, mlp_hidden}; }
};

// init_from (a bertforge checkpoint or run directory, or an HF model
// directory) gives the encoder; without it the model is built from the preset
// and overrides with random weights (a baseline), and `tokenizer` is needed.
struct FinetuneModelSection {
  train::ModelSection arch;
  std::string tokenizer;  // default: the tokenizer stored with init_from
  HeadSection head;
  std::optional<double> classifier_dropout;
  template <class V>
  void visit(V& v) {
    arch.visit(v);
    v.field("tokenizer", tokenizer);
    v.section("head", head);
    v.field("classifier_dropout", classifier_dropout);
  }
};

struct FinetuneDataSection {
  std::string train;
  std::string dev;
  std::string test;
  std::string format = "auto";          // auto | tsv | csv | jsonl
  std::string text_column = "text";
  std::string text_pair_column;         // empty: single texts
  std::string label_column = "label";
  std::string task = "single_label";    // single_label | multi_label | regression
  std::string label_separator = ",";    // multi-label cells of TSV/CSV
  std::vector<std::string> labels;      // fixes the class order; default: from the training set
  std::int64_t max_seq_length = 128;
  std::string on_bad_row = "error";     // error | skip
  bool shuffle = true;
  bool group_by_length = false;
  std::string class_weights = "none";   // none | balanced | "w0,w1,..." (single-label)
  template <class V>
  void visit(V& v) {
    v.required("train", train);
    v.field("dev", dev);
    v.field("test", test);
    v.field("format", format, one_of({"auto", "tsv", "csv", "jsonl"}));
    v.field("text_column", text_column);
    v.field("text_pair_column", text_pair_column);
    v.field("label_column", label_column);
    v.field("task", task, one_of({"single_label", "multi_label", "regression"}));
    v.field("label_separator", label_separator);
    v.field("labels", labels);
    v.field("max_seq_length", max_seq_length, in_range<std::int64_t>(4, 1 << 16));
    v.field("on_bad_row", on_bad_row, one_of({"error", "skip"}));
    v.field("shuffle", shuffle);
    v.field("group_by_length", group_by_length);
    v.field("class_weights", class_weights);
  }
  ReadOptions read_options() const;
};

struct FinetuneEvalSection {
  std::int64_t every_steps = 0;  // > 0: every N steps; 0: at the end of each epoch
  std::int64_t batch_size = 64;
  std::string metric;            // best-model metric; default accuracy | micro_f1 | pearson by task
  std::int64_t patience = 0;     // stop after this many evals without improvement; 0 = never
  template <class V>
  void visit(V& v) {
    v.field("every_steps", every_steps, non_negative<std::int64_t>());
    v.field("batch_size", batch_size, in_range<std::int64_t>(1, 1 << 20));
    v.field("metric", metric, one_of({"", "loss", "accuracy", "macro_f1", "f1", "mcc", "micro_f1", "exact_match",
                                      "pearson", "spearman", "mse"}));
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
  train::DistributedSection distributed;

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

  TaskType task() const { return parse_task(data.task); }
  std::string best_metric() const;
};

FinetuneConfig load_finetune_config(const std::string& file, const std::vector<std::string>& overrides = {});

// Files named by the config that do not exist, an unwritable output
// directory, a missing tokenizer for a from-scratch model. Empty when fine.
std::vector<std::string> check_finetune_paths(const FinetuneConfig& config);

// The model directory a model.init_from value names: itself when it holds a
// config.json, else a run's exported model/ or newest checkpoint.
std::string resolve_model_dir(const std::string& path);

// class_weights: "none" -> {}, "balanced" -> n / (k * count_c), "a,b,..." -> as given.
std::vector<double> class_weights_for(const std::string& setting, const Dataset& train);

}  // namespace bf::ft
