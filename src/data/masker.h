#pragma once
// Google's create_masked_lm_predictions and its successors: choose
// masked_lm_prob of the maskable tokens (never [CLS]/[SEP]/[PAD] or other
// special ids), capped at max_predictions_per_seq, in units of
//   token       single pieces (Google's BERT);
//   whole_word  every piece of a word (a run of pieces whose first has a word
//               start), a word that does not fit in the budget passed over;
//   span        SpanBERT: runs of whole words from a random anchor word, the
//               length drawn from a clipped geometric distribution;
//   ngram       ERNIE/ALBERT: n whole words from shuffled start words, n in
//               [1, ngram_max] with weights 1/n;
// then replace the chosen tokens by [MASK], a random token or themselves by
// the configured ratios: per token for token/whole_word (as Google), once per
// span for span/ngram (as SpanBERT). No unit is ever cut in half by the budget.
#include <cstdint>
#include <vector>

#include "data/instance_options.h"
#include "data/span_sampler.h"
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
  struct Word {
    std::uint32_t begin;
    std::uint32_t end;
  };
  using Chosen = std::vector<std::pair<std::int32_t, std::int32_t>>;  // (position, original id)

  void choose_words(Instance& instance, const std::vector<Word>& words, std::size_t budget, CounterRng& rng,
                    Chosen& chosen) const;
  void choose_spans(Instance& instance, const std::vector<Word>& words, std::size_t budget, CounterRng& rng,
                    Chosen& chosen) const;
  void choose_ngrams(Instance& instance, const std::vector<Word>& words, std::size_t budget, CounterRng& rng,
                     Chosen& chosen) const;
  // Masks words [first, last] with one replacement decision for all their tokens.
  void mask_run(Instance& instance, const std::vector<Word>& words, std::size_t first, std::size_t last,
                CounterRng& rng, Chosen& chosen) const;
  std::int32_t random_token(CounterRng& rng) const;

  MaskingOptions options_;
  tok::SpecialIds special_;
  std::int32_t vocab_size_;
  SpanLengths lengths_;  // span: geometric; ngram: 1/n
};

}  // namespace bf::data
