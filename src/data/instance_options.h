#pragma once
// Options for turning shards into training sequences, split out of DataConfig
// so the sample code does not depend on YAML.
#include <cstdint>

#include "data/data_config.h"

namespace bf::data {

struct InstanceOptions {
  std::int32_t max_seq_length = 128;
  double short_seq_prob = 0.1;
  bool nsp = true;

  static InstanceOptions from(const DataConfig& c) {
    return {static_cast<std::int32_t>(c.max_seq_length), c.short_seq_prob, c.nsp};
  }
};

struct MaskingOptions {
  double masked_lm_prob = 0.15;
  std::int32_t max_predictions_per_seq = 20;
  double mask_token_ratio = 0.8;
  double random_token_ratio = 0.1;
  double keep_ratio = 0.1;
  bool whole_word_masking = false;
  bool static_masking = false;  // instances and masks fixed by the build seed, the same every epoch
  std::int32_t dupe_factor = 10;  // static only: differently segmented and masked copies per epoch

  static MaskingOptions from(const DataConfig& c) {
    MaskingOptions m;
    m.masked_lm_prob = c.masked_lm_prob;
    m.max_predictions_per_seq = static_cast<std::int32_t>(c.max_predictions_per_seq);
    m.mask_token_ratio = c.mask_token_ratio;
    m.random_token_ratio = c.random_token_ratio;
    m.keep_ratio = c.keep_ratio;
    m.whole_word_masking = c.whole_word_masking;
    m.static_masking = c.masking == "static";
    m.dupe_factor = static_cast<std::int32_t>(c.dupe_factor);
    return m;
  }
};

}  // namespace bf::data
