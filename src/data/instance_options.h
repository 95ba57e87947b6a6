#pragma once
// Options for turning shards into training sequences, split out of DataConfig
// so the sample code does not depend on YAML.
#include <cstdint>

#include "data/data_config.h"

namespace bf::data {

struct InstanceOptions {
  std::int32_t max_seq_length = 128;
  double short_seq_prob = 0.1;
  PairTask pair_task = PairTask::Nsp;

  static InstanceOptions from(const DataConfig& c) {
    return {static_cast<std::int32_t>(c.max_seq_length), c.short_seq_prob, c.effective_pair_task()};
  }
};

struct MaskingOptions {
  double masked_lm_prob = 0.15;
  std::int32_t max_predictions_per_seq = 20;
  double mask_token_ratio = 0.8;
  double random_token_ratio = 0.1;
  double keep_ratio = 0.1;
  MaskUnit mask_unit = MaskUnit::Token;
  double span_p = 0.2;               // span: geometric p of the length in words
  std::int32_t span_max_words = 10;  // span: lengths cut to [1, span_max_words]
  std::int32_t ngram_max = 3;        // ngram: n in [1, ngram_max], weights 1/n
  bool static_masking = false;  // instances and masks fixed by the build seed, the same every epoch
  std::int32_t dupe_factor = 10;  // static only: differently segmented and masked copies per epoch

  static MaskingOptions from(const DataConfig& c) {
    MaskingOptions m;
    m.masked_lm_prob = c.masked_lm_prob;
    m.max_predictions_per_seq = static_cast<std::int32_t>(c.max_predictions_per_seq);
    m.mask_token_ratio = c.mask_token_ratio;
    m.random_token_ratio = c.random_token_ratio;
    m.keep_ratio = c.keep_ratio;
    m.mask_unit = c.effective_mask_unit();
    m.span_p = c.span_p;
    m.span_max_words = static_cast<std::int32_t>(c.span_max_words);
    m.ngram_max = static_cast<std::int32_t>(c.ngram_max);
    m.static_masking = c.masking == "static";
    m.dupe_factor = static_cast<std::int32_t>(c.dupe_factor);
    return m;
  }
};

}  // namespace bf::data
