#pragma once
// The `data:` section of a pretraining config, also the body of the config
// that `bertforge data build --config FILE` reads. Fields that decide the
// shards on disk (inputs, split, cleaning) are separate from fields that only
// decide how instances and masks are made on the fly (sequence length, the
// pair task, masking): changing the latter never needs a rebuild.
#include <cstdint>
#include <string>
#include <vector>

#include "util/config_reader.h"

namespace bf::data {

// One input: a file or a glob, plain UTF-8 or gzip (detected by content).
struct InputSpec {
  std::string path;
  std::string format = "google";  // google | paragraph
  std::string problem;            // set while parsing when the entry is malformed
};
YAML::Emitter& operator<<(YAML::Emitter& out, const InputSpec& input);

}  // namespace bf::data

namespace YAML {
template <>
struct convert<bf::data::InputSpec> {
  static Node encode(const bf::data::InputSpec& input);
  static bool decode(const Node& node, bf::data::InputSpec& input);
};
}  // namespace YAML

namespace bf::data {

// What one masked unit is (data.mask_unit; masker.h).
enum class MaskUnit { Token, WholeWord, Span, Ngram };
inline const EnumNames<MaskUnit>& mask_unit_names() {
  static const EnumNames<MaskUnit> names{
      {{MaskUnit::Token, "token"}, {MaskUnit::WholeWord, "whole_word"}, {MaskUnit::Span, "span"},
       {MaskUnit::Ngram, "ngram"}}};
  return names;
}

// The sentence-pair objective (data.pair_task; instance_builder.h).
enum class PairTask { Nsp, Sop, None };
inline const EnumNames<PairTask>& pair_task_names() {
  static const EnumNames<PairTask> names{{{PairTask::Nsp, "nsp"}, {PairTask::Sop, "sop"}, {PairTask::None, "none"}}};
  return names;
}

struct DataConfig {
  // --- what goes into the shards ---
  std::vector<InputSpec> inputs;
  std::string output;                    // shard directory
  double heldout_fraction = 0.01;        // share of documents kept for evaluation
  std::int64_t seed = 12345;             // build seed: held-out split and static instances
  std::string bad_input = "replace";     // replace | skip | error
  std::int64_t max_line_bytes = 1 << 20; // longer lines are truncated / skipped / an error
  std::int64_t shard_tokens = 1 << 25;   // tokens per shard file
  std::int64_t build_threads = 0;        // 0 = all cores
  // Chinese word segmentation, stored as the shards' word starts (word_segmenter.h):
  std::string word_segmentation = "none";  // none | icu | pretokenized
  std::string word_refs;                   // HF mlm_wwm ref file (run_chinese_ref.py) of the one input
  std::string user_words;                  // lexicon of words kept whole (icu, pretokenized)

  // --- how instances are made from the shards ---
  std::int64_t max_seq_length = 128;
  double short_seq_prob = 0.1;
  // nsp (BERT) | sop (ALBERT's sentence order) | none (MLM only, contiguous
  // full-length segments: RoBERTa)
  PairTask pair_task = PairTask::Nsp;
  bool nsp = true;  // the old spelling: nsp: false = pair_task: none

  // --- masking ---
  std::string masking = "dynamic";  // dynamic (new mask every epoch) | static (fixed at build)
  std::int64_t dupe_factor = 10;    // static: differently segmented/masked copies per epoch
  double masked_lm_prob = 0.15;
  std::int64_t max_predictions_per_seq = 20;
  double mask_token_ratio = 0.8;    // of the chosen positions: [MASK]
  double random_token_ratio = 0.1;  //                          a random token
  double keep_ratio = 0.1;          //                          unchanged
  MaskUnit mask_unit = MaskUnit::Token;  // token | whole_word | span (SpanBERT) | ngram (ERNIE/ALBERT)
  bool whole_word_masking = false;       // the old spelling: true = mask_unit: whole_word
  double span_p = 0.2;                   // span: length in words ~ geometric(p) ...
  std::int64_t span_max_words = 10;      //       ... cut to [1, span_max_words]
  std::int64_t ngram_max = 3;            // ngram: n in [1, ngram_max], weights 1/n

  // --- loader ---
  std::int64_t loader_threads = 2;
  std::int64_t prefetch_batches = 8;

  template <class V>
  void visit(V& v) {
    v.field("inputs", inputs);
    v.required("output", output);
    v.field("heldout_fraction", heldout_fraction, in_range(0.0, 0.5));
    v.field("seed", seed, non_negative<std::int64_t>());
    v.field("bad_input", bad_input, one_of({"replace", "skip", "error"}));
    v.field("max_line_bytes", max_line_bytes, in_range<std::int64_t>(64, std::int64_t(1) << 30));
    v.field("shard_tokens", shard_tokens, in_range<std::int64_t>(1024, std::int64_t(1) << 31));
    v.field("build_threads", build_threads, non_negative<std::int64_t>());
    v.field("word_segmentation", word_segmentation, one_of({"none", "icu", "pretokenized"}));
    v.field("word_refs", word_refs);
    v.field("user_words", user_words);
    v.field("max_seq_length", max_seq_length, in_range<std::int64_t>(8, 65536));
    v.field("short_seq_prob", short_seq_prob, in_range(0.0, 1.0));
    pair_task_keys(v);
    v.field("masking", masking, one_of({"dynamic", "static"}));
    v.field("dupe_factor", dupe_factor, in_range<std::int64_t>(1, 1000));
    v.field("masked_lm_prob", masked_lm_prob, in_range(0.0, 1.0));
    v.field("max_predictions_per_seq", max_predictions_per_seq, in_range<std::int64_t>(1, 65536));
    v.field("mask_token_ratio", mask_token_ratio, in_range(0.0, 1.0));
    v.field("random_token_ratio", random_token_ratio, in_range(0.0, 1.0));
    v.field("keep_ratio", keep_ratio, in_range(0.0, 1.0));
    mask_unit_keys(v);
    v.field("span_p", span_p, in_range(0.01, 1.0));
    v.field("span_max_words", span_max_words, in_range<std::int64_t>(1, 256));
    v.field("ngram_max", ngram_max, in_range<std::int64_t>(1, 16));
    v.field("loader_threads", loader_threads, in_range<std::int64_t>(0, 256));
    v.field("prefetch_batches", prefetch_batches, in_range<std::int64_t>(1, 4096));
    for (const auto& problem : cross_field_problems()) v.invalid(problem.first, problem.second);
  }

  // A key and its old spelling (pair_task and nsp, mask_unit and
  // whole_word_masking). Writing and checking see both fields; the reader
  // (data_config.cpp) also sees which of the two a config wrote, refuses a
  // contradiction, and leaves both agreeing, so that a saved config compares
  // key by key with one saved before the new key existed.
  template <class V>
  void pair_task_keys(V& v) {
    v.field("nsp", nsp);
    v.choice("pair_task", pair_task, pair_task_names());
  }
  void pair_task_keys(ConfigReader& v);
  template <class V>
  void mask_unit_keys(V& v) {
    v.field("whole_word_masking", whole_word_masking);
    v.choice("mask_unit", mask_unit, mask_unit_names());
  }
  void mask_unit_keys(ConfigReader& v);

  // The task and unit in effect. A read sets both spellings; code that sets
  // only the old one (nsp = false, whole_word_masking = true) gets it too.
  PairTask effective_pair_task() const {
    return pair_task == PairTask::Nsp && !nsp ? PairTask::None : pair_task;
  }
  MaskUnit effective_mask_unit() const {
    return mask_unit == MaskUnit::Token && whole_word_masking ? MaskUnit::WholeWord : mask_unit;
  }

  // (key, message) pairs for problems no single field shows.
  std::vector<std::pair<std::string, std::string>> cross_field_problems() const;
  // The fields that decide the shards, as canonical text (the build's identity).
  std::string shard_identity() const;
};

// The config of `bertforge data build`: the tokenizer directory and the data
// section. The same file may be a whole pretraining config; its other
// sections are left to the trainer.
struct DataBuildConfig {
  std::string tokenizer;
  DataConfig data;
};

// Reads `tokenizer:` (a directory, or a mapping with `dir:`/`path:`) and
// `data:` from a YAML file, after applying --set overrides. `other_keys`: the
// top-level keys of the larger config the file may be (a pretraining
// config's sections, from its own visit list: pretrain::read_data_build_config);
// any other key is an error.
DataBuildConfig read_data_build_config(const std::string& file, const std::vector<std::string>& overrides = {},
                                       std::vector<std::string> other_keys = {});

}  // namespace bf::data
