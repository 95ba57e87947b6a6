#include "data/instance_builder.h"

#include <algorithm>

#include "data/counter_rng.h"
#include "data/token_corpus.h"

namespace bf::data {

void Instance::clear() {
  tokens.clear();
  segment_ids.clear();
  word_starts.clear();
  is_special.clear();
  next_sentence_label = -100;
  a_doc = a_first = a_end = b_doc = b_first = b_end = a_length = b_length = 0;
}

InstanceBuilder::InstanceBuilder(const TokenCorpus& corpus, InstanceOptions options, tok::SpecialIds special)
    : corpus_(corpus), options_(options), special_(special) {}

void InstanceBuilder::build(const Chunk& chunk, CounterRng& rng, Instance& out) const {
  out.clear();
  switch (options_.pair_task) {
    case PairTask::Nsp:
      build_pair(chunk, rng, out);
      break;
    case PairTask::Sop:
      build_order_pair(chunk, rng, out);
      break;
    case PairTask::None:
      build_single(chunk, rng, out);
      break;
  }
}

namespace {

// A segment being assembled: ids and word starts of whole sentences, then a
// window [begin, end) that truncation narrows.
struct Segment {
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> word_starts;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};

thread_local Segment tl_a;
thread_local Segment tl_b;

void load_sentences(const TokenCorpus& corpus, std::uint32_t doc, std::uint32_t first, std::uint32_t end, Segment& s) {
  s.ids.clear();
  s.word_starts.clear();
  for (std::uint32_t i = first; i < end; ++i) corpus.append_sentence(doc, i, s.ids, s.word_starts);
  s.begin = 0;
  s.end = s.ids.size();
}

// Google's truncate_seq_pair: trim the longer segment, front or back at random, until the pair fits.
void truncate_pair(Segment& a, Segment& b, std::size_t max_tokens, CounterRng& rng) {
  while (a.size() + b.size() > max_tokens) {
    Segment& longer = a.size() > b.size() ? a : b;
    if (rng.bernoulli(0.5)) {
      ++longer.begin;
    } else {
      --longer.end;
    }
  }
}

// Where a one-sentence chunk is split for SOP: a random word start inside it
// (never cutting a word), else a random piece boundary; both parts non-empty.
std::size_t random_split(const Segment& s, CounterRng& rng) {
  if (s.ids.size() < 2) return s.ids.size();  // the plan never makes such a chunk
  std::size_t starts = 0;
  for (std::size_t i = 1; i < s.ids.size(); ++i) starts += s.word_starts[i];
  if (starts == 0) return static_cast<std::size_t>(rng.randint(1, static_cast<std::int64_t>(s.ids.size()) - 1));
  auto pick = rng.below(starts);
  for (std::size_t i = 1; i < s.ids.size(); ++i) {
    if (s.word_starts[i] && pick-- == 0) return i;
  }
  return s.ids.size() - 1;  // not reached
}

// Moves whole's tokens from `at` on into tail.
void split_segment(Segment& whole, std::size_t at, Segment& tail) {
  tail.ids.assign(whole.ids.begin() + static_cast<std::ptrdiff_t>(at), whole.ids.end());
  tail.word_starts.assign(whole.word_starts.begin() + static_cast<std::ptrdiff_t>(at), whole.word_starts.end());
  whole.ids.resize(at);
  whole.word_starts.resize(at);
  whole.begin = tail.begin = 0;
  whole.end = whole.ids.size();
  tail.end = tail.ids.size();
}

void append(const Segment& s, std::uint8_t segment_id, Instance& out) {
  out.tokens.insert(out.tokens.end(), s.ids.begin() + s.begin, s.ids.begin() + s.end);
  out.word_starts.insert(out.word_starts.end(), s.word_starts.begin() + s.begin, s.word_starts.begin() + s.end);
  out.segment_ids.insert(out.segment_ids.end(), s.size(), segment_id);
  out.is_special.insert(out.is_special.end(), s.size(), 0);
}

void append_special(std::int32_t id, std::uint8_t segment_id, Instance& out) {
  out.tokens.push_back(id);
  out.word_starts.push_back(1);
  out.segment_ids.push_back(segment_id);
  out.is_special.push_back(1);
}

// [CLS] A [SEP] B [SEP] after Google's longest-first truncation to
// max_seq_length: the end of both pair tasks.
void append_pair(Segment& a, Segment& b, std::int32_t max_seq_length, const tok::SpecialIds& special,
                 CounterRng& rng, Instance& out) {
  truncate_pair(a, b, static_cast<std::size_t>(max_seq_length - 3), rng);
  out.a_length = static_cast<std::uint32_t>(a.size());
  out.b_length = static_cast<std::uint32_t>(b.size());
  append_special(special.cls, 0, out);
  append(a, 0, out);
  append_special(special.sep, 0, out);
  append(b, 1, out);
  append_special(special.sep, 1, out);
}

}  // namespace

void InstanceBuilder::build_pair(const Chunk& chunk, CounterRng& rng, Instance& out) const {
  Segment& a = tl_a;
  Segment& b = tl_b;
  load_sentences(corpus_, chunk.doc, chunk.first, chunk.a_end, a);
  out.a_doc = chunk.doc;
  out.a_first = chunk.first;
  out.a_end = chunk.a_end;
  if (chunk.random_next) {
    // Any document but this one, uniformly.
    auto other = static_cast<std::uint32_t>(rng.below(corpus_.num_documents() - 1));
    if (other >= chunk.doc) ++other;
    const std::uint32_t n = corpus_.num_sentences(other);
    const auto start = static_cast<std::uint32_t>(rng.below(n));
    const std::uint64_t target_b = chunk.target > a.size() ? chunk.target - a.size() : 1;
    std::uint32_t end = start;
    std::uint64_t length = 0;
    while (end < n && length < target_b) length += corpus_.sentence_length(other, end++);
    load_sentences(corpus_, other, start, end, b);
    out.b_doc = other;
    out.b_first = start;
    out.b_end = end;
    out.next_sentence_label = 1;
  } else {
    load_sentences(corpus_, chunk.doc, chunk.a_end, chunk.end, b);
    out.b_doc = chunk.doc;
    out.b_first = chunk.a_end;
    out.b_end = chunk.end;
    out.next_sentence_label = 0;
  }
  append_pair(a, b, options_.max_seq_length, special_, rng, out);
}

// ALBERT's sentence-order pairs: the chunk's sentences [first, a_end) and
// [a_end, end) (a one-sentence chunk split inside it, see random_split), in
// order or swapped with probability 0.5; label 1 = swapped.
void InstanceBuilder::build_order_pair(const Chunk& chunk, CounterRng& rng, Instance& out) const {
  Segment& a = tl_a;
  Segment& b = tl_b;
  load_sentences(corpus_, chunk.doc, chunk.first, chunk.a_end, a);
  const std::size_t boundary = a.ids.size();
  for (std::uint32_t i = chunk.a_end; i < chunk.end; ++i) corpus_.append_sentence(chunk.doc, i, a.ids, a.word_starts);
  const bool inside = boundary == 0 || boundary == a.ids.size();
  split_segment(a, inside ? random_split(a, rng) : boundary, b);
  const std::uint32_t b_first = inside ? chunk.first : chunk.a_end;
  const std::uint32_t a_end = inside ? chunk.end : chunk.a_end;
  const bool swapped = rng.bernoulli(0.5);
  if (swapped) std::swap(a, b);
  out.a_doc = out.b_doc = chunk.doc;
  out.a_first = swapped ? b_first : chunk.first;
  out.a_end = swapped ? chunk.end : a_end;
  out.b_first = swapped ? chunk.first : b_first;
  out.b_end = swapped ? a_end : chunk.end;
  out.next_sentence_label = swapped ? 1 : 0;
  append_pair(a, b, options_.max_seq_length, special_, rng, out);
}

void InstanceBuilder::build_single(const Chunk& chunk, CounterRng& rng, Instance& out) const {
  Segment& a = tl_a;
  Segment& b = tl_b;
  load_sentences(corpus_, chunk.doc, chunk.first, chunk.end, a);
  b.ids.clear();
  b.begin = b.end = 0;
  truncate_pair(a, b, static_cast<std::size_t>(options_.max_seq_length - 2), rng);
  out.a_doc = out.b_doc = chunk.doc;
  out.a_first = chunk.first;
  out.a_end = out.b_first = out.b_end = chunk.end;
  out.a_length = static_cast<std::uint32_t>(a.size());
  append_special(special_.cls, 0, out);
  append(a, 0, out);
  append_special(special_.sep, 0, out);
  out.next_sentence_label = -100;
}

}  // namespace bf::data
