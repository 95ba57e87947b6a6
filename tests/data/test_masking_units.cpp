// Masking units (token, whole_word, span, ngram) and the sentence-pair task
// (nsp, sop, none): distributions, budgets, determinism, config spellings.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "data/counter_rng.h"
#include "data/inspect_view.h"
#include "data/masker.h"
#include "data/sample_source.h"
#include "data/span_sampler.h"
#include "data/token_corpus.h"
#include "data_fixtures.h"
#include "util/config_reader.h"
#include "util/hash.h"

using namespace bf::data;

namespace {

// One hash over everything a sample puts in a batch.
std::uint64_t hash_samples(const SampleSource& source, std::int64_t epoch, std::int64_t n) {
  std::string bytes;
  auto add = [&bytes](const void* p, std::size_t size) { bytes.append(static_cast<const char*>(p), size); };
  Sample s;
  n = std::min(n, source.samples_in_epoch(epoch));
  for (std::int64_t i = 0; i < n; ++i) {
    source.sample(epoch, i, s);
    const Instance& inst = s.instance;
    add(inst.tokens.data(), inst.tokens.size() * sizeof(std::int32_t));
    add(inst.segment_ids.data(), inst.segment_ids.size());
    add(s.masked_positions.data(), s.masked_positions.size() * sizeof(std::int32_t));
    add(s.masked_labels.data(), s.masked_labels.size() * sizeof(std::int32_t));
    add(&inst.next_sentence_label, sizeof(inst.next_sentence_label));
  }
  return bf::hash64(bytes);
}

std::uint64_t hash_of_config(const std::string& shards, const DataConfig& config, std::int64_t epoch) {
  const auto corpus = TokenCorpus::open(shards, "train");
  SampleOptions so;
  so.instances = InstanceOptions::from(config);
  so.masking = MaskingOptions::from(config);
  so.seed = 42;
  so.build_seed = 12345;
  const SampleSource source(corpus, so, corpus->manifest().tokenizer);
  return hash_samples(source, epoch, 3000);
}

}  // namespace

// The outputs of today's configs, recorded before mask_unit and pair_task
// existed: the old spellings must keep making exactly these samples.
TEST_CASE("masking units: nsp/none x token/whole-word samples are bit-identical to before", "[masking]") {
  struct Case {
    const char* name;
    bool chinese, nsp, whole_words, static_masking;
    std::int64_t epoch;
    std::uint64_t hash;
  };
  const Case cases[] = {
      {"en nsp token", false, true, false, false, 0, 0x8a63e9a3fbc3b620ull},
      {"en nsp wwm", false, true, true, false, 1, 0xb2ceffea2c24a15dull},
      {"en none token", false, false, false, false, 0, 0xf2b071a8c75dd830ull},
      {"en none wwm", false, false, true, false, 0, 0x9d6ebf6663765fdbull},
      {"zh nsp wwm", true, true, true, false, 0, 0xec8ff752fd6f5124ull},
      {"en nsp token static", false, true, false, true, 2, 0xb2a3a5295ca99514ull},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    DataConfig config;
    config.nsp = c.nsp;
    config.whole_word_masking = c.whole_words;
    config.masking = c.static_masking ? "static" : "dynamic";
    config.dupe_factor = 2;
    CHECK(hash_of_config(c.chinese ? test::chinese_shards() : test::english_shards(), config, c.epoch) == c.hash);
    // The new spellings make the same samples.
    DataConfig spelled;
    spelled.pair_task = c.nsp ? PairTask::Nsp : PairTask::None;
    spelled.mask_unit = c.whole_words ? MaskUnit::WholeWord : MaskUnit::Token;
    spelled.masking = config.masking;
    spelled.dupe_factor = 2;
    CHECK(hash_of_config(c.chinese ? test::chinese_shards() : test::english_shards(), spelled, c.epoch) == c.hash);
  }
}

namespace {

constexpr std::int32_t kPad = 0, kUnk = 100, kCls = 101, kSep = 102, kMask = 103;

const bf::tok::SpecialIds& fake_special() {
  static const bf::tok::SpecialIds special{kPad, kUnk, kCls, kSep, kMask};
  return special;
}

// [CLS] A [SEP] B [SEP] of random pieces, a word starting at 40 % of them.
Instance random_instance(CounterRng& rng, std::size_t a, std::size_t b) {
  Instance inst;
  auto add = [&](std::int32_t id, std::uint8_t segment, bool special, std::uint8_t start) {
    inst.tokens.push_back(id);
    inst.segment_ids.push_back(segment);
    inst.is_special.push_back(special);
    inst.word_starts.push_back(start);
  };
  add(kCls, 0, true, 1);
  auto piece = [&rng] { return static_cast<std::int32_t>(1000 + rng.below(20000)); };
  for (std::size_t i = 0; i < a; ++i) add(piece(), 0, false, rng.bernoulli(0.4));
  add(kSep, 0, true, 1);
  for (std::size_t i = 0; i < b; ++i) add(piece(), 1, false, rng.bernoulli(0.4));
  if (b > 0) add(kSep, 1, true, 1);
  return inst;
}

// Token ranges [begin, end) of the words the masker sees: a word starts at a
// word start or after a special token.
std::vector<std::pair<std::size_t, std::size_t>> words_of(const Instance& inst) {
  std::vector<std::pair<std::size_t, std::size_t>> words;
  bool after_special = true;
  for (std::size_t i = 0; i < inst.tokens.size(); ++i) {
    if (inst.is_special[i]) {
      after_special = true;
      continue;
    }
    if (after_special || inst.word_starts[i] || words.empty() || words.back().second != i) {
      words.push_back({i, i + 1});
    } else {
      words.back().second = i + 1;
    }
    after_special = false;
  }
  return words;
}

MaskingOptions masking_of(MaskUnit unit) {
  MaskingOptions m;
  m.mask_unit = unit;
  return m;
}

SampleOptions sample_options(PairTask task, MaskUnit unit, std::int32_t seq, std::uint64_t seed = 42) {
  SampleOptions o;
  o.instances.max_seq_length = seq;
  o.instances.pair_task = task;
  o.masking.mask_unit = unit;
  o.seed = seed;
  return o;
}

// Runs of consecutive masked positions, counted in words (a run's first
// piece and every word start inside it).
std::pair<double, double> masked_runs(const Sample& s, std::int64_t& runs) {
  double words = 0;
  std::int64_t count = 0;
  const auto& p = s.masked_positions;
  for (std::size_t k = 0; k < p.size(); ++k) {
    const bool continues = k > 0 && p[k] == p[k - 1] + 1;
    if (!continues) {
      ++count;
      ++words;
    } else if (s.instance.word_starts[static_cast<std::size_t>(p[k])]) {
      ++words;
    }
  }
  runs += count;
  return {words, static_cast<double>(count)};
}

// True when `first` occurs in `text` and `second` occurs after it.
bool in_sequence(const std::vector<std::int32_t>& text, const std::vector<std::int32_t>& first,
                 const std::vector<std::int32_t>& second) {
  for (auto at = text.begin();; ++at) {
    at = std::search(at, text.end(), first.begin(), first.end());
    if (at == text.end()) return false;
    const auto after = at + static_cast<std::ptrdiff_t>(first.size());
    if (std::search(after, text.end(), second.begin(), second.end()) != text.end()) return true;
  }
}

std::string config_error(const std::string& yaml) {
  const std::string dir = test::temp_dir("mask-config");
  test::write_text(dir + "/c.yaml", "tokenizer: tok/\ndata:\n  inputs: [a.txt]\n  output: out\n" + yaml);
  try {
    read_data_build_config(dir + "/c.yaml");
  } catch (const bf::Error& e) {
    return e.what();
  }
  return "";
}

DataConfig read_data(const std::string& yaml) {
  const std::string dir = test::temp_dir("mask-config-ok");
  test::write_text(dir + "/c.yaml", "tokenizer: tok/\ndata:\n  inputs: [a.txt]\n  output: out\n" + yaml);
  return read_data_build_config(dir + "/c.yaml").data;
}

}  // namespace

TEST_CASE("span lengths: clipped geometric histogram, 1/n n-gram weights", "[masking]") {
  const SpanLengths span = SpanLengths::geometric(0.2, 10);
  REQUIRE(span.max() == 10);
  double z = 0;
  for (int n = 1; n <= 10; ++n) z += 0.2 * std::pow(0.8, n - 1);
  for (int n = 1; n <= 10; ++n) CHECK(std::abs(span.probability(n) - 0.2 * std::pow(0.8, n - 1) / z) < 1e-12);
  CounterRng rng(7, Stream::kMask, {1});
  std::vector<int> counts(11, 0);
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts.at(static_cast<std::size_t>(span.draw(rng, span.max())));
  double mean = 0;
  for (int n = 1; n <= 10; ++n) {
    INFO("length " << n << ": " << counts[n] << " of " << draws);
    CHECK(std::abs(static_cast<double>(counts[n]) / draws - span.probability(n)) < 0.01);
    mean += n * static_cast<double>(counts[n]) / draws;
  }
  CHECK(mean > 3.3);  // SpanBERT's 3.8 words on average at p = 0.2, max 10
  CHECK(mean < 4.3);

  const SpanLengths ngram = SpanLengths::inverse(3);
  const double weights[] = {0, 1.0, 0.5, 1.0 / 3};
  std::vector<int> n_counts(4, 0), limited(4, 0);
  for (int i = 0; i < draws; ++i) {
    ++n_counts.at(static_cast<std::size_t>(ngram.draw(rng, 3)));
    ++limited.at(static_cast<std::size_t>(ngram.draw(rng, 2)));  // only 1..2 fit: renormalised over them
  }
  for (int n = 1; n <= 3; ++n) {
    INFO("n " << n);
    CHECK(std::abs(static_cast<double>(n_counts[n]) / draws - weights[n] / (11.0 / 6)) < 0.01);
  }
  CHECK(limited[3] == 0);
  CHECK(std::abs(static_cast<double>(limited[1]) / draws - 2.0 / 3) < 0.01);
}

TEST_CASE("every mask unit keeps the budget and never cuts a word in half", "[masking]") {
  for (MaskUnit unit : {MaskUnit::Token, MaskUnit::WholeWord, MaskUnit::Span, MaskUnit::Ngram}) {
    INFO("mask_unit " << mask_unit_names().name(unit));
    CounterRng setup(99, Stream::kInstance, {static_cast<std::uint64_t>(unit)});
    std::int64_t over_budget = 0, cut_words = 0, special_masked = 0, not_ascending = 0;
    double chosen = 0, budgets = 0;
    for (int trial = 0; trial < 3000; ++trial) {
      MaskingOptions o = masking_of(unit);
      o.masked_lm_prob = 0.05 + 0.35 * setup.uniform();
      o.max_predictions_per_seq = static_cast<std::int32_t>(setup.randint(1, 40));
      o.span_max_words = static_cast<std::int32_t>(setup.randint(1, 12));
      o.ngram_max = static_cast<std::int32_t>(setup.randint(1, 5));
      const Masker masker(o, fake_special(), 30000);
      Instance inst = random_instance(setup, static_cast<std::size_t>(setup.randint(1, 80)),
                                      static_cast<std::size_t>(setup.randint(0, 60)));
      const Instance before = inst;
      std::size_t maskable = 0;
      for (auto s : inst.is_special) maskable += !s;
      const std::size_t budget = std::min<std::size_t>(
          o.max_predictions_per_seq,
          std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(maskable * o.masked_lm_prob))));
      CounterRng rng(5, Stream::kMask, {static_cast<std::uint64_t>(trial)});
      std::vector<std::int32_t> positions, labels;
      masker.apply(inst, rng, positions, labels);
      over_budget += positions.size() > budget;
      std::vector<std::uint8_t> masked(inst.tokens.size(), 0);
      for (std::size_t k = 0; k < positions.size(); ++k) {
        const auto p = static_cast<std::size_t>(positions[k]);
        masked[p] = 1;
        special_masked += before.is_special[p];
        not_ascending += k > 0 && positions[k] <= positions[k - 1];
        cut_words += labels[k] != before.tokens[p];
      }
      if (unit != MaskUnit::Token) {
        for (const auto& [begin, end] : words_of(before)) {
          const auto n = std::count(masked.begin() + begin, masked.begin() + end, 1);
          cut_words += n != 0 && static_cast<std::size_t>(n) != end - begin;
        }
      }
      chosen += static_cast<double>(positions.size());
      budgets += static_cast<double>(budget);
    }
    CHECK(over_budget == 0);
    CHECK(cut_words == 0);
    CHECK(special_masked == 0);
    CHECK(not_ascending == 0);
    INFO("filled " << chosen / budgets << " of the budget");
    CHECK(chosen / budgets > 0.9);  // whole units still fill the budget nearly to the brim
  }
}

TEST_CASE("span and ngram masking on Chinese: contiguous multi-word runs, 15 % of the tokens, one decision per span",
          "[masking]") {
  const auto corpus = TokenCorpus::open(test::chinese_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  for (MaskUnit unit : {MaskUnit::Span, MaskUnit::Ngram, MaskUnit::WholeWord}) {
    INFO("mask_unit " << mask_unit_names().name(unit));
    SampleOptions o = sample_options(PairTask::Nsp, unit, 128);
    o.masking.max_predictions_per_seq = 128;  // no cap: the 15 % is what is measured
    const SampleSource source(corpus, o, tok);
    Sample s;
    double words = 0, maskable = 0, masked = 0;
    std::int64_t runs = 0, neighbours = 0, differing = 0;
    for (std::int64_t i = 0; i < source.samples_in_epoch(0); ++i) {
      source.sample(0, i, s);
      for (auto sp : s.instance.is_special) maskable += !sp;
      masked += static_cast<double>(s.masked_positions.size());
      words += masked_runs(s, runs).first;
      // Neighbours that differ ([MASK] beside a kept or random token): a
      // third of the pairs with a decision per token, rare with one per span
      // (only where two spans touch).
      const auto& p = s.masked_positions;
      for (std::size_t k = 1; k < p.size(); ++k) {
        if (p[k] != p[k - 1] + 1) continue;
        ++neighbours;
        const bool a = s.instance.tokens[static_cast<std::size_t>(p[k - 1])] == tok.special.mask;
        const bool b = s.instance.tokens[static_cast<std::size_t>(p[k])] == tok.special.mask;
        differing += a != b;
      }
    }
    const double mean_words = words / static_cast<double>(runs);
    INFO("mean run " << mean_words << " words; masked " << masked / maskable);
    if (unit == MaskUnit::WholeWord) CHECK(mean_words < 1.5);  // the control: single characters, seldom adjacent
    CHECK(std::abs(masked / maskable - 0.15) < 0.01);
    if (unit == MaskUnit::Span) CHECK(mean_words > 1.5);
    if (unit == MaskUnit::Ngram) CHECK(mean_words > 1.2);
    const double differ = static_cast<double>(differing) / static_cast<double>(neighbours);
    INFO("differing neighbours " << differ);
    if (unit == MaskUnit::WholeWord) CHECK(differ > 0.25);  // 2 x 0.8 x 0.2 = 0.32
    if (unit != MaskUnit::WholeWord) CHECK(differ < 0.1);
  }
}

TEST_CASE("sop: consecutive segments of one document, swapped half the time", "[masking]") {
  const auto corpus = TokenCorpus::open(test::english_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  const SampleSource source(corpus, sample_options(PairTask::Sop, MaskUnit::Token, 64), tok);
  std::int64_t n = 0, swapped = 0, bad_layout = 0, not_consecutive = 0, not_text = 0, split_inside = 0;
  Sample s;
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    for (std::int64_t i = 0; i < source.samples_in_epoch(epoch); ++i, ++n) {
      source.sample(epoch, i, s);
      const Instance& inst = s.instance;
      const std::size_t sep1 = 1 + inst.a_length, sep2 = sep1 + 1 + inst.b_length;
      bad_layout += inst.tokens.size() != sep2 + 1 || inst.tokens.size() > 64 || inst.tokens[sep1] != tok.special.sep ||
                    inst.a_length < 1 || inst.b_length < 1 || inst.segment_ids[sep1 + 1] != 1 ||
                    (inst.next_sentence_label != 0 && inst.next_sentence_label != 1);
      const bool is_swapped = inst.next_sentence_label == 1;
      swapped += is_swapped;
      // In document order: first = the part that comes first in the text.
      const std::uint32_t first_begin = is_swapped ? inst.b_first : inst.a_first;
      const std::uint32_t first_end = is_swapped ? inst.b_end : inst.a_end;
      const std::uint32_t second_begin = is_swapped ? inst.a_first : inst.b_first;
      const std::uint32_t second_end = is_swapped ? inst.a_end : inst.b_end;
      const bool inside = first_begin == second_begin && first_end == second_end && first_end == first_begin + 1;
      split_inside += inside;
      not_consecutive += inst.a_doc != inst.b_doc || (!inside && first_end != second_begin);
      // Each part is a trimmed piece of its sentences' tokens; the first part ends where the second begins.
      std::vector<std::int32_t> tokens = inst.tokens;
      for (std::size_t k = 0; k < s.masked_positions.size(); ++k)
        tokens[static_cast<std::size_t>(s.masked_positions[k])] = s.masked_labels[k];
      std::vector<std::int32_t> a(tokens.begin() + 1, tokens.begin() + static_cast<std::ptrdiff_t>(sep1));
      std::vector<std::int32_t> b(tokens.begin() + static_cast<std::ptrdiff_t>(sep1 + 1),
                                  tokens.begin() + static_cast<std::ptrdiff_t>(sep2));
      std::vector<std::int32_t> whole;
      std::vector<std::uint8_t> starts;
      for (std::uint32_t k = first_begin; k < second_end; ++k) corpus->append_sentence(inst.a_doc, k, whole, starts);
      std::vector<std::int32_t> in_order = is_swapped ? b : a;
      const std::vector<std::int32_t>& later = is_swapped ? a : b;
      not_text += !in_sequence(whole, in_order, later);
    }
  }
  REQUIRE(n >= 5000);
  CHECK(bad_layout == 0);
  CHECK(not_consecutive == 0);
  CHECK(not_text == 0);
  CHECK(split_inside > 0);  // one-sentence chunks are split inside the sentence
  const double share = static_cast<double>(swapped) / static_cast<double>(n);
  INFO("swapped " << swapped << " of " << n);
  CHECK(std::abs(share - 0.5) < 0.02);
}

TEST_CASE("pair_task none: no B and label -100; the loader's pair labels follow the task", "[masking]") {
  const auto corpus = TokenCorpus::open(test::english_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  const SampleSource source(corpus, sample_options(PairTask::None, MaskUnit::Span, 128), tok);
  Sample s;
  std::int64_t bad = 0;
  for (std::int64_t i = 0; i < 1000; ++i) {
    source.sample(0, i, s);
    bad += s.instance.next_sentence_label != -100 || s.instance.b_length != 0 ||
           s.instance.tokens.size() != s.instance.a_length + 2 ||
           std::count(s.instance.segment_ids.begin(), s.instance.segment_ids.end(), 1) != 0;
  }
  CHECK(bad == 0);
}

TEST_CASE("masks are a function of (seed, epoch, index): the same on rebuild, different for another seed",
          "[masking]") {
  const auto corpus = TokenCorpus::open(test::chinese_shards(), "train");
  const TokenizerInfo tok = corpus->manifest().tokenizer;
  for (MaskUnit unit : {MaskUnit::Token, MaskUnit::WholeWord, MaskUnit::Span, MaskUnit::Ngram}) {
    for (PairTask task : {PairTask::Nsp, PairTask::Sop, PairTask::None}) {
      INFO(mask_unit_names().name(unit) << " " << pair_task_names().name(task));
      const SampleSource one(corpus, sample_options(task, unit, 128, 42), tok);
      const SampleSource again(TokenCorpus::open(test::chinese_shards(), "train"), sample_options(task, unit, 128, 42),
                               tok);
      const SampleSource other(corpus, sample_options(task, unit, 128, 43), tok);
      CHECK(hash_samples(one, 1, 300) == hash_samples(again, 1, 300));
      CHECK(hash_samples(one, 1, 300) != hash_samples(other, 1, 300));
      CHECK(hash_samples(one, 1, 300) != hash_samples(one, 2, 300));
    }
  }
}

TEST_CASE("data config: mask_unit and pair_task, their old spellings, and contradictions", "[masking]") {
  DataConfig c = read_data("");
  CHECK(c.effective_mask_unit() == MaskUnit::Token);
  CHECK(c.effective_pair_task() == PairTask::Nsp);
  CHECK(c.span_p == 0.2);
  CHECK(c.span_max_words == 10);
  CHECK(c.ngram_max == 3);

  c = read_data("  whole_word_masking: true\n  nsp: false\n");
  CHECK(c.effective_mask_unit() == MaskUnit::WholeWord);
  CHECK(c.mask_unit == MaskUnit::WholeWord);
  CHECK(c.effective_pair_task() == PairTask::None);
  CHECK(MaskingOptions::from(c).mask_unit == MaskUnit::WholeWord);
  CHECK(InstanceOptions::from(c).pair_task == PairTask::None);

  c = read_data("  mask_unit: span\n  pair_task: sop\n  span_p: 0.3\n  whole_word_masking: false\n  nsp: true\n");
  CHECK(c.effective_mask_unit() == MaskUnit::Span);
  CHECK(c.effective_pair_task() == PairTask::Sop);
  CHECK_FALSE(c.whole_word_masking);
  CHECK(c.nsp);

  c = read_data("  mask_unit: whole_word\n  pair_task: none\n");
  CHECK(c.whole_word_masking);  // both spellings agree after a read
  CHECK_FALSE(c.nsp);
  // What a run saves reads back the same.
  const DataConfig again = bf::read_config_node<DataConfig>(YAML::Load(bf::config_to_yaml(c)), "saved");
  CHECK(again.effective_mask_unit() == MaskUnit::WholeWord);
  CHECK(again.effective_pair_task() == PairTask::None);

  std::string e = config_error("  whole_word_masking: true\n  mask_unit: span\n");
  CHECK_THAT(e, Catch::Contains("data.mask_unit") && Catch::Contains("whole_word_masking: true"));
  e = config_error("  whole_word_masking: false\n  mask_unit: whole_word\n");
  CHECK_THAT(e, Catch::Contains("data.mask_unit") && Catch::Contains("whole_word_masking: false"));
  e = config_error("  nsp: true\n  pair_task: none\n");
  CHECK_THAT(e, Catch::Contains("data.pair_task") && Catch::Contains("nsp: true"));
  e = config_error("  nsp: false\n  pair_task: sop\n");
  CHECK_THAT(e, Catch::Contains("data.pair_task") && Catch::Contains("nsp: false"));
  e = config_error("  mask_unit: phrase\n");
  CHECK_THAT(e, Catch::Contains("data.mask_unit") && Catch::Contains("'phrase' is not one of"));
  e = config_error("  pair_task: nsp_sop\n");
  CHECK_THAT(e, Catch::Contains("data.pair_task"));
  e = config_error("  span_p: 0\n  ngram_max: 0\n");
  CHECK_THAT(e, Catch::Contains("data.span_p") && Catch::Contains("data.ngram_max"));
}

TEST_CASE("data inspect: masked groups bracketed, the pair label by name, one JSON object per example", "[masking]") {
  const auto& tokenizer = test::english_tokenizer();
  const auto special = tokenizer.special_ids();
  const auto id = [&](const char* piece) { return tokenizer.token_to_id(piece); };
  Sample s;
  s.instance.tokens = {special.cls, special.mask, special.mask, id("the"), id("dog"), special.sep};
  s.instance.word_starts = {1, 1, 0, 1, 1, 1};
  s.instance.is_special = {1, 0, 0, 0, 0, 1};
  s.instance.segment_ids = {0, 0, 0, 0, 0, 0};
  s.instance.next_sentence_label = 1;
  s.masked_positions = {1, 2, 4};
  s.masked_labels = {id("play"), id("##ing"), id("dog")};  // "dog" kept as itself

  const std::string nsp = decoded_example(s, &tokenizer, special, PairTask::Nsp, 0);
  CHECK_THAT(nsp, Catch::Contains("[CLS] [playing] the [dog|dog] [SEP]"));
  CHECK_THAT(nsp, Catch::Contains("nsp label 1 = random"));
  CHECK_THAT(nsp, Catch::Contains("3 predictions in 2 groups"));
  CHECK_THAT(decoded_example(s, &tokenizer, special, PairTask::Sop, 0), Catch::Contains("sop label 1 = swapped"));

  const nlohmann::json j = example_json(s, &tokenizer, PairTask::Sop, 7);
  CHECK(j["example"] == 7);
  CHECK(j["pair_task"] == "sop");
  CHECK(j["pair_label"] == 1);
  CHECK(j["pair_label_name"] == "swapped");
  CHECK(j["tokens"][1] == "[MASK]");
  CHECK(j["ids"].size() == 6);
  CHECK(j["masked_positions"] == nlohmann::json({1, 2, 4}));
  CHECK(j["masked_labels"] == nlohmann::json({id("play"), id("##ing"), id("dog")}));
  CHECK(j["word_starts"] == nlohmann::json({1, 1, 0, 1, 1, 1}));
  CHECK(j["segment_ids"] == nlohmann::json({0, 0, 0, 0, 0, 0}));

  // The whole command on shards, with the masking and pair task overridden (no rebuild).
  InspectOptions o;
  o.data = test::english_shards();
  o.n = 4;
  o.stats_samples = 200;
  o.overrides = {"data.mask_unit=ngram", "data.pair_task=sop"};
  auto run = [&o] {
    std::FILE* file = std::tmpfile();
    inspect_shards(o, file);
    std::rewind(file);
    std::string text;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file)) text.append(buffer, n);
    std::fclose(file);
    return text;
  };
  const std::string view = run();
  CHECK_THAT(view, Catch::Contains("pair_task sop") && Catch::Contains("mask_unit ngram") && Catch::Contains("swapped"));
  o.json = true;
  std::istringstream lines(run());
  std::string line;
  int examples = 0;
  while (std::getline(lines, line)) {
    const auto e = nlohmann::json::parse(line);
    CHECK(e["pair_task"] == "sop");
    CHECK(e["ids"].size() == e["segment_ids"].size());
    CHECK(e["masked_positions"].size() == e["masked_labels"].size());
    ++examples;
  }
  CHECK(examples == 4);
}
