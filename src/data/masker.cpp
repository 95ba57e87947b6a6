#include "data/masker.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/counter_rng.h"
#include "data/instance_builder.h"

namespace bf::data {

Masker::Masker(MaskingOptions options, tok::SpecialIds special, std::int32_t vocab_size)
    : options_(options), special_(special), vocab_size_(vocab_size) {}

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

struct Word {
  std::uint32_t begin;
  std::uint32_t end;
};

thread_local std::vector<Word> tl_words;
thread_local std::vector<std::uint32_t> tl_order;
thread_local std::vector<std::pair<std::int32_t, std::int32_t>> tl_chosen;

}  // namespace

void Masker::apply(Instance& instance, CounterRng& rng, std::vector<std::int32_t>& positions,
                   std::vector<std::int32_t>& labels) const {
  positions.clear();
  labels.clear();
  std::vector<Word>& words = tl_words;
  words.clear();
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
    if (options_.whole_word_masking && !previous_special && !instance.word_starts[i] && !words.empty() &&
        words.back().end == i) {
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

  std::vector<std::uint32_t>& order = tl_order;
  order.resize(words.size());
  std::iota(order.begin(), order.end(), 0u);
  rng.shuffle(order.data(), order.size());

  auto& chosen = tl_chosen;
  chosen.clear();
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
  std::sort(chosen.begin(), chosen.end());
  for (const auto& [position, label] : chosen) {
    positions.push_back(position);
    labels.push_back(label);
  }
}

}  // namespace bf::data
