// Google's instance and masking algorithm, checked on real text.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "data/counter_rng.h"
#include "data/manifest.h"
#include "data/sample_source.h"
#include "data/token_corpus.h"
#include "data_fixtures.h"

using namespace bf::data;

namespace {

SampleOptions options_for(std::int32_t seq, bool nsp, bool whole_words, std::uint64_t seed = 42) {
  SampleOptions o;
  o.instances.max_seq_length = seq;
  o.instances.pair_task = nsp ? PairTask::Nsp : PairTask::None;
  o.masking.mask_unit = whole_words ? MaskUnit::WholeWord : MaskUnit::Token;
  o.masking.max_predictions_per_seq = seq;  // no cap: the 15% is what is measured
  o.seed = seed;
  return o;
}

std::vector<std::int32_t> sentence_tokens(const TokenCorpus& corpus, std::uint32_t doc, std::uint32_t first,
                                          std::uint32_t end) {
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> starts;
  for (std::uint32_t s = first; s < end; ++s) corpus.append_sentence(doc, s, ids, starts);
  return ids;
}

// True when `part` is `whole` with some tokens cut from the front and back.
bool is_trimmed(const std::vector<std::int32_t>& part, const std::vector<std::int32_t>& whole) {
  if (part.size() > whole.size()) return false;
  for (std::size_t offset = 0; offset + part.size() <= whole.size(); ++offset) {
    if (std::equal(part.begin(), part.end(), whole.begin() + static_cast<std::ptrdiff_t>(offset))) return true;
  }
  return false;
}

struct Unmasked {
  std::vector<std::int32_t> a, b;
};

// Puts the labels back, then cuts the sequence at its [SEP]s.
Unmasked unmask(const Sample& s) {
  std::vector<std::int32_t> tokens = s.instance.tokens;
  for (std::size_t i = 0; i < s.masked_positions.size(); ++i) tokens[s.masked_positions[i]] = s.masked_labels[i];
  Unmasked u;
  const std::size_t a_begin = 1, a_end = 1 + s.instance.a_length;
  u.a.assign(tokens.begin() + a_begin, tokens.begin() + a_end);
  u.b.assign(tokens.begin() + a_end + 1, tokens.begin() + a_end + 1 + s.instance.b_length);
  return u;
}

}  // namespace

TEST_CASE("instances (NSP, en_pretrain): lengths, whole sentences, 50/50 labels, random B from another document") {
  const auto corpus = TokenCorpus::open(test::english_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  const SampleSource source(corpus, options_for(128, true, false), tok);
  const std::int64_t n = source.samples_in_epoch(0);
  REQUIRE(n > 2000);
  std::int64_t random_b = 0, too_long = 0, bad_layout = 0, not_sentences = 0, same_doc_random = 0, short_seqs = 0;
  std::int64_t untruncated = 0, untruncated_exact = 0;
  Sample s;
  for (std::int64_t i = 0; i < n; ++i) {
    source.sample(0, i, s);
    const Instance& inst = s.instance;
    too_long += inst.tokens.size() > 128;
    short_seqs += inst.tokens.size() < 64;
    // [CLS] A [SEP] B [SEP], segment 0 through the first [SEP], then 1.
    const std::size_t sep1 = 1 + inst.a_length, sep2 = sep1 + 1 + inst.b_length;
    bad_layout += inst.tokens.size() != sep2 + 1 || inst.tokens[0] != tok.special.cls ||
                  inst.tokens[sep1] != tok.special.sep || inst.tokens[sep2] != tok.special.sep || inst.a_length < 1 ||
                  inst.b_length < 1 || inst.segment_ids[sep1] != 0 || inst.segment_ids[sep1 + 1] != 1 ||
                  inst.segment_ids[sep2] != 1;
    random_b += inst.next_sentence_label == 1;
    if (inst.next_sentence_label == 1) same_doc_random += inst.b_doc == inst.a_doc;
    if (inst.next_sentence_label == 0) {
      bad_layout += inst.b_doc != inst.a_doc || inst.b_first != inst.a_end;  // B is what follows A
    }
    // A and B are runs of whole sentences, at most trimmed at their ends by truncation.
    const Unmasked u = unmask(s);
    const auto whole_a = sentence_tokens(*corpus, inst.a_doc, inst.a_first, inst.a_end);
    const auto whole_b = sentence_tokens(*corpus, inst.b_doc, inst.b_first, inst.b_end);
    not_sentences += !is_trimmed(u.a, whole_a) || !is_trimmed(u.b, whole_b);
    if (whole_a.size() + whole_b.size() <= 125) {
      ++untruncated;
      untruncated_exact += u.a == whole_a && u.b == whole_b;
    } else {
      too_long += inst.a_length + inst.b_length != 125;  // truncation stops exactly at the limit
    }
  }
  CHECK(too_long == 0);
  CHECK(bad_layout == 0);
  CHECK(not_sentences == 0);
  CHECK(untruncated_exact == untruncated);
  CHECK(same_doc_random == 0);
  const double share = static_cast<double>(random_b) / n;
  INFO("random B share " << share << " over " << n);
  // Single-sentence chunks are always random; Google's mix lands a little over half.
  CHECK(share > 0.45);
  CHECK(share < 0.60);
  CHECK(short_seqs > n / 50);  // short_seq_prob 0.1 makes some
}

TEST_CASE("instances (NSP off): contiguous whole sentences of one document, up to the full length") {
  const auto corpus = TokenCorpus::open(test::english_shards(), "train");
  const SampleSource source(corpus, options_for(128, false, false), corpus->manifest().tokenizer);
  Sample s;
  std::int64_t bad = 0;
  double fill = 0;
  const std::int64_t n = 2000;
  for (std::int64_t i = 0; i < n; ++i) {
    source.sample(0, i, s);
    const Instance& inst = s.instance;
    bad += inst.tokens.size() > 128 || inst.next_sentence_label != -100 || inst.b_length != 0 ||
           inst.tokens.size() != inst.a_length + 2;
    const auto whole = sentence_tokens(*corpus, inst.a_doc, inst.a_first, inst.a_end);
    bad += !is_trimmed(unmask(s).a, whole);
    fill += inst.tokens.size() / 128.0;
  }
  CHECK(bad == 0);
  CHECK(fill / n > 0.75);  // packed, not short
}

TEST_CASE("masking: 15% of maskable tokens, 80/10/10, never special tokens") {
  const auto corpus = TokenCorpus::open(test::english_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  const SampleSource source(corpus, options_for(128, true, false), tok);
  Sample s;
  std::int64_t maskable = 0, masked = 0, as_mask = 0, as_random = 0, as_kept = 0, special_masked = 0;
  const std::int64_t n = source.samples_in_epoch(0);
  for (std::int64_t i = 0; i < n; ++i) {
    source.sample(0, i, s);
    const Instance& inst = s.instance;
    for (std::size_t t = 0; t < inst.tokens.size(); ++t) maskable += !inst.is_special[t];
    masked += static_cast<std::int64_t>(s.masked_positions.size());
    for (std::size_t k = 0; k < s.masked_positions.size(); ++k) {
      const auto p = static_cast<std::size_t>(s.masked_positions[k]);
      const std::int32_t label = s.masked_labels[k];
      special_masked += inst.is_special[p] || label == tok.special.cls || label == tok.special.sep ||
                        label == tok.special.pad;
      if (k > 0) special_masked += s.masked_positions[k] <= s.masked_positions[k - 1];  // ascending, unique
      if (inst.tokens[p] == tok.special.mask) {
        ++as_mask;
      } else if (inst.tokens[p] == label) {
        ++as_kept;
      } else {
        ++as_random;
      }
    }
  }
  CHECK(special_masked == 0);
  const double fraction = static_cast<double>(masked) / maskable;
  INFO("masked " << masked << " of " << maskable << " = " << fraction);
  CHECK(std::abs(fraction - 0.15) < 0.005);
  // A random replacement can draw the original token (1/30k): inside the tolerance.
  const double m = static_cast<double>(masked);
  const double sd = std::sqrt(m * 0.1 * 0.9);
  CHECK(std::abs(as_mask - 0.8 * m) < 5 * std::sqrt(m * 0.8 * 0.2));
  CHECK(std::abs(as_random - 0.1 * m) < 5 * sd);
  CHECK(std::abs(as_kept - 0.1 * m) < 5 * sd);
}

TEST_CASE("masking: configurable ratios and the max_predictions_per_seq cap") {
  const auto corpus = TokenCorpus::open(test::english_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  SampleOptions o = options_for(128, true, false);
  o.masking.mask_token_ratio = 1.0;
  o.masking.random_token_ratio = 0.0;
  o.masking.keep_ratio = 0.0;
  o.masking.max_predictions_per_seq = 5;
  const SampleSource source(corpus, o, tok);
  Sample s;
  std::int64_t over_cap = 0, not_mask = 0;
  for (std::int64_t i = 0; i < 1000; ++i) {
    source.sample(0, i, s);
    over_cap += s.masked_positions.size() > 5;
    for (auto p : s.masked_positions) not_mask += s.instance.tokens[p] != tok.special.mask;
  }
  CHECK(over_cap == 0);
  CHECK(not_mask == 0);
}

TEST_CASE("whole-word masking: every piece of a chosen word, and only whole words (English)") {
  const auto corpus = TokenCorpus::open(test::english_shards(), "train");
  const SampleSource source(corpus, options_for(128, true, true), corpus->manifest().tokenizer);
  Sample s;
  std::int64_t partial = 0, multi_piece_words = 0;
  for (std::int64_t i = 0; i < source.samples_in_epoch(0); ++i) {
    source.sample(0, i, s);
    const Instance& inst = s.instance;
    std::vector<std::uint8_t> chosen(inst.tokens.size(), 0);
    for (auto p : s.masked_positions) chosen[p] = 1;
    // Walk words: a word starts at a word start or after a special token.
    std::size_t t = 1;
    while (t < inst.tokens.size()) {
      if (inst.is_special[t]) {
        ++t;
        continue;
      }
      std::size_t end = t + 1;
      while (end < inst.tokens.size() && !inst.is_special[end] && !inst.word_starts[end]) ++end;
      std::size_t count = 0;
      for (std::size_t k = t; k < end; ++k) count += chosen[k];
      if (count != 0 && count != end - t) ++partial;
      if (count != 0 && end - t > 1) ++multi_piece_words;
      t = end;
    }
  }
  CHECK(partial == 0);
  CHECK(multi_piece_words > 100);  // the property was exercised
}

TEST_CASE("whole-word masking on Chinese: each character is a word") {
  const auto corpus = TokenCorpus::open(test::chinese_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  REQUIRE(corpus->num_documents() > 5);
  const SampleSource source(corpus, options_for(128, true, true), tok);
  Sample s;
  std::int64_t masked = 0, maskable = 0, too_long = 0, same_doc_random = 0, continuation = 0;
  for (std::int64_t i = 0; i < std::min<std::int64_t>(1500, source.samples_in_epoch(0)); ++i) {
    source.sample(0, i, s);
    too_long += s.instance.tokens.size() > 128;
    if (s.instance.next_sentence_label == 1) same_doc_random += s.instance.b_doc == s.instance.a_doc;
    for (std::size_t t = 0; t < s.instance.tokens.size(); ++t) {
      maskable += !s.instance.is_special[t];
      // Every CJK character starts a word: whole words are single characters.
      continuation += !s.instance.is_special[t] && !s.instance.word_starts[t];
    }
    masked += static_cast<std::int64_t>(s.masked_positions.size());
  }
  CHECK(too_long == 0);
  CHECK(same_doc_random == 0);
  CHECK(std::abs(static_cast<double>(masked) / maskable - 0.15) < 0.01);
  CHECK(continuation * 100 < maskable);
}
