#pragma once
// `bertforge data inspect`: a shard directory's statistics, then decoded
// example sequences as the loader makes them (masked groups bracketed with
// their original pieces, the pair task and its label), or, with --json, one
// JSON object per example for users' own checks.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/data_config.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

struct Sample;

struct InspectOptions {
  std::string data;       // shard directory
  std::string tokenizer;  // default: the one the shards were built with
  std::string split = "train";
  int n = 5;
  std::int64_t seed = 0;
  std::int64_t stats_samples = 20000;
  bool json = false;
  // --set data.key=value over the config the shards were built with (e.g.
  // data.mask_unit=span, data.pair_task=sop: no rebuild needed to look).
  std::vector<std::string> overrides;
};

void inspect_shards(const InspectOptions& options, std::FILE* out = stdout);

// The label's name: NSP is_next / random, SOP in_order / swapped, "none".
std::string pair_label_name(PairTask task, std::int32_t label);

// One example as text: the header line, where A and B come from, the tokens
// with each run of masked positions as [original] (all [MASK]) or
// [original|shown] (kept or random), and a legend. Without a tokenizer, ids.
std::string decoded_example(const Sample& sample, const tok::Tokenizer* tokenizer, const tok::SpecialIds& special,
                            PairTask task, int index);

// tokens (when a tokenizer is given), ids, segment_ids, word_starts,
// masked_positions, masked_labels (original ids), pair_task, pair_label.
nlohmann::json example_json(const Sample& sample, const tok::Tokenizer* tokenizer, PairTask task, int index);

}  // namespace bf::data
