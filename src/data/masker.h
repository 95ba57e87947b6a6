#pragma once
// Google's create_masked_lm_predictions: choose masked_lm_prob of the
// maskable tokens (never [CLS]/[SEP]/[PAD] or other special ids), capped at
// max_predictions_per_seq, as whole words when asked (a word is a run of
// pieces whose first has a word start; every piece of a chosen word is
// masked, and a word that does not fit in the budget is passed over); then
// replace each chosen token by [MASK], a random token or itself by the
// configured ratios.
#include <cstdint>
#include <vector>

#include "data/instance_options.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

class CounterRng;
struct Instance;

class Masker {
 public:
  Masker(MaskingOptions options, tok::SpecialIds special, std::int32_t vocab_size);

  // Masks instance.tokens in place; positions ascending, labels = original ids.
  void apply(Instance& instance, CounterRng& rng, std::vector<std::int32_t>& positions,
             std::vector<std::int32_t>& labels) const;

  bool is_special_id(std::int32_t id) const;

 private:
  std::int32_t random_token(CounterRng& rng) const;

  MaskingOptions options_;
  tok::SpecialIds special_;
  std::int32_t vocab_size_;
};

}  // namespace bf::data
