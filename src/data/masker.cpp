#include "data/masker.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/counter_rng.h"
#include "data/instance_builder.h"

namespace bf::data {
namespace {

SpanLengths lengths_for(const MaskingOptions& o) {
  if (o.mask_unit == MaskUnit::Span) return SpanLengths::geometric(o.span_p, o.span_max_words);
  if (o.mask_unit == MaskUnit::Ngram) return SpanLengths::inverse(o.ngram_max);
  return SpanLengths::inverse(1);
}

}  // namespace

Masker::Masker(MaskingOptions options, tok::SpecialIds special, std::int32_t vocab_size)
    : options_(options), special_(special), vocab_size_(vocab_size), lengths_(lengths_for(options)) {}

bool Masker::is_special_id(std::int32_t id) const {
  return id == special_.pad || id == special_.cls || id == special_.sep || id == special_.mask || id == special_.unk;
}

std::int32_t Masker::random_token(CounterRng& rng) const {
  // Redraw special ids: a random [CLS] or [PAD] inside text teaches nothing.
  while (true) {
    const auto id = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(vocab_size_)));
    if (!is_special_id(id)) return id;
  }
}

namespace {

thread_local std::vector<std::uint32_t> tl_order;
thread_local std::vector<std::uint8_t> tl_covered;

}  // namespace

void Masker::apply(Instance& instance, CounterRng& rng, std::vector<std::int32_t>& positions,
                   std::vector<std::int32_t>& labels) const {
  thread_local std::vector<Word> tl_words;
  thread_local Chosen tl_chosen;
  positions.clear();
  labels.clear();
  std::vector<Word>& words = tl_words;
  words.clear();
  const bool whole_words = options_.mask_unit != MaskUnit::Token;
  bool previous_special = true;
  std::size_t maskable = 0;
  for (std::uint32_t i = 0; i < instance.tokens.size(); ++i) {
    const bool special = instance.is_special[i] || is_special_id(instance.tokens[i]);
    if (special) {
      previous_special = true;
      continue;
    }
    ++maskable;
    // A piece continues the previous word unless it starts one; after a
    // special token (or a truncated front) a new word begins regardless.
    if (whole_words && !previous_special && !instance.word_starts[i] && !words.empty() && words.back().end == i) {
      words.back().end = i + 1;
    } else {
      words.push_back({i, i + 1});
    }
    previous_special = false;
  }
  if (maskable == 0) return;
  const auto wanted = static_cast<std::size_t>(std::llround(static_cast<double>(maskable) * options_.masked_lm_prob));
  const std::size_t budget =
      std::min<std::size_t>(static_cast<std::size_t>(options_.max_predictions_per_seq), std::max<std::size_t>(1, wanted));

  Chosen& chosen = tl_chosen;
  chosen.clear();
  switch (options_.mask_unit) {
    case MaskUnit::Span:
      choose_spans(instance, words, budget, rng, chosen);
      break;
    case MaskUnit::Ngram:
      choose_ngrams(instance, words, budget, rng, chosen);
      break;
    case MaskUnit::Token:
    case MaskUnit::WholeWord:
      choose_words(instance, words, budget, rng, chosen);
      break;
  }
  std::sort(chosen.begin(), chosen.end());
  for (const auto& [position, label] : chosen) {
    positions.push_back(position);
    labels.push_back(label);
  }
}

// Google's: words in shuffled order, each taken whole if it fits, every token
// replaced by its own draw.
void Masker::choose_words(Instance& instance, const std::vector<Word>& words, std::size_t budget, CounterRng& rng,
                          Chosen& chosen) const {
  std::vector<std::uint32_t>& order = tl_order;
  order.resize(words.size());
  std::iota(order.begin(), order.end(), 0u);
  rng.shuffle(order.data(), order.size());
  const double mask_cut = options_.mask_token_ratio;
  const double random_cut = options_.mask_token_ratio + options_.random_token_ratio;
  for (std::uint32_t w : order) {
    if (chosen.size() >= budget) break;
    const Word word = words[w];
    if (chosen.size() + (word.end - word.begin) > budget) continue;
    for (std::uint32_t i = word.begin; i < word.end; ++i) {
      const std::int32_t original = instance.tokens[i];
      chosen.emplace_back(static_cast<std::int32_t>(i), original);
      const double u = rng.uniform();
      if (u < mask_cut) {
        instance.tokens[i] = special_.mask;
      } else if (u < random_cut) {
        instance.tokens[i] = random_token(rng);
      }
    }
  }
}

// SpanBERT's: draw a length, pick a random anchor word, extend to the right.
// A span is a run of adjacent whole words: it ends at a special token, before
// a word already masked, and before a word that would overflow the budget
// (SpanBERT cuts that word; here a word is never cut). The attempts are
// bounded: once no free word fits in what is left of the budget, none would.
void Masker::choose_spans(Instance& instance, const std::vector<Word>& words, std::size_t budget, CounterRng& rng,
                          Chosen& chosen) const {
  std::vector<std::uint8_t>& covered = tl_covered;
  covered.assign(words.size(), 0);
  auto size = [&](std::size_t w) { return static_cast<std::size_t>(words[w].end - words[w].begin); };
  const std::size_t attempts = 8 * words.size() + 16;
  for (std::size_t attempt = 0; attempt < attempts && chosen.size() < budget; ++attempt) {
    const auto length = static_cast<std::size_t>(lengths_.draw(rng, lengths_.max()));
    const auto anchor = static_cast<std::size_t>(rng.below(words.size()));
    if (covered[anchor] || chosen.size() + size(anchor) > budget) continue;
    std::size_t last = anchor;
    std::size_t tokens = size(anchor);
    while (last - anchor + 1 < length && last + 1 < words.size()) {
      const std::size_t next = last + 1;
      if (words[next].begin != words[last].end || covered[next] || chosen.size() + tokens + size(next) > budget) break;
      tokens += size(next);
      last = next;
    }
    std::fill(covered.begin() + static_cast<std::ptrdiff_t>(anchor),
              covered.begin() + static_cast<std::ptrdiff_t>(last + 1), 1);
    mask_run(instance, words, anchor, last, rng, chosen);
  }
}

// ALBERT's create_pretraining_data n-gram masking (ERNIE's phrase masking
// without a phrase list): every word is a candidate start, in shuffled order;
// n is drawn with weights 1/n among the lengths that stay within adjacent
// words, shrunk while the n-gram overflows the budget, and the candidate is
// skipped when it still does or when any of its words is already masked.
void Masker::choose_ngrams(Instance& instance, const std::vector<Word>& words, std::size_t budget, CounterRng& rng,
                           Chosen& chosen) const {
  std::vector<std::uint32_t>& order = tl_order;
  order.resize(words.size());
  std::iota(order.begin(), order.end(), 0u);
  rng.shuffle(order.data(), order.size());
  std::vector<std::uint8_t>& covered = tl_covered;
  covered.assign(words.size(), 0);
  const auto longest = static_cast<std::size_t>(lengths_.max());
  for (std::uint32_t w : order) {
    if (chosen.size() >= budget) break;
    if (covered[w]) continue;
    std::size_t available = 1;
    while (available < longest && w + available < words.size() &&
           words[w + available].begin == words[w + available - 1].end) {
      ++available;
    }
    auto n = static_cast<std::size_t>(lengths_.draw(rng, static_cast<std::int32_t>(available)));
    auto tokens = [&](std::size_t count) {
      return static_cast<std::size_t>(words[w + count - 1].end - words[w].begin);
    };
    while (n > 1 && chosen.size() + tokens(n) > budget) --n;
    if (chosen.size() + tokens(n) > budget) continue;
    if (std::any_of(covered.begin() + w, covered.begin() + static_cast<std::ptrdiff_t>(w + n),
                    [](std::uint8_t c) { return c != 0; })) {
      continue;
    }
    std::fill(covered.begin() + w, covered.begin() + static_cast<std::ptrdiff_t>(w + n), 1);
    mask_run(instance, words, w, w + n - 1, rng, chosen);
  }
}

void Masker::mask_run(Instance& instance, const std::vector<Word>& words, std::size_t first, std::size_t last,
                      CounterRng& rng, Chosen& chosen) const {
  const double u = rng.uniform();
  const bool to_mask = u < options_.mask_token_ratio;
  const bool to_random = !to_mask && u < options_.mask_token_ratio + options_.random_token_ratio;
  for (std::uint32_t i = words[first].begin; i < words[last].end; ++i) {
    chosen.emplace_back(static_cast<std::int32_t>(i), instance.tokens[i]);
    if (to_mask) {
      instance.tokens[i] = special_.mask;
    } else if (to_random) {
      instance.tokens[i] = random_token(rng);
    }
  }
}

}  // namespace bf::data
