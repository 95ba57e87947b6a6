#include "data/epoch_plan.h"

#include <numeric>

#include "data/counter_rng.h"
#include "data/token_corpus.h"

namespace bf::data {
namespace {

std::uint32_t pick_target(CounterRng& rng, const InstanceOptions& options, std::uint32_t max_tokens) {
  // Google draws the target once per document; drawing per chunk gives the
  // intended share of short sequences in long documents too.
  if (rng.bernoulli(options.short_seq_prob)) return static_cast<std::uint32_t>(rng.randint(2, max_tokens));
  return max_tokens;
}

// Google's chunks of one document: sentences gathered until a drawn target
// length is reached, A's end drawn at a sentence boundary inside. `emit(first,
// a_end, end, tokens, target)` adds what the chunk gives and returns one past
// the last sentence it used; the next chunk starts there.
template <class Emit>
void walk_chunks(const TokenCorpus& corpus, const InstanceOptions& options, std::uint32_t doc, CounterRng& rng,
                 Emit emit) {
  const std::uint32_t n = corpus.num_sentences(doc);
  const auto max_tokens = static_cast<std::uint32_t>(options.max_seq_length - 3);
  std::uint32_t target = pick_target(rng, options, max_tokens);
  std::uint32_t chunk_first = 0;
  std::uint64_t length = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    length += corpus.sentence_length(doc, i);
    if (i + 1 < n && length < target) continue;
    const std::uint32_t count = i + 1 - chunk_first;
    const std::uint32_t a_end = chunk_first + (count >= 2 ? static_cast<std::uint32_t>(rng.randint(1, count - 1)) : 1);
    i = emit(chunk_first, a_end, i + 1, length, target) - 1;
    chunk_first = i + 1;
    length = 0;
    target = pick_target(rng, options, max_tokens);
  }
}

void plan_nsp_document(const TokenCorpus& corpus, const InstanceOptions& options, std::uint32_t doc, CounterRng& rng,
                       std::vector<Chunk>& out) {
  const bool other_documents = corpus.num_documents() > 1;
  walk_chunks(corpus, options, doc, rng,
              [&](std::uint32_t first, std::uint32_t a_end, std::uint32_t end, std::uint64_t, std::uint32_t target) {
                bool random_next = end - first == 1 || rng.bernoulli(0.5);
                if (random_next && !other_documents) random_next = false;  // nowhere else to take B from
                if (random_next) {
                  out.push_back({doc, first, a_end, a_end, target, 1});
                  return a_end;  // the sentences after A go back for the next chunk
                }
                if (end - first >= 2) out.push_back({doc, first, a_end, end, target, 0});
                return end;
              });
}

// SOP (ALBERT): the same chunks as NSP, each split into A and B at a random
// sentence boundary; B is never taken from elsewhere, so nothing is put back.
// A one-sentence chunk is split inside the sentence when built; a chunk of a
// single token cannot be split and is dropped.
void plan_order_document(const TokenCorpus& corpus, const InstanceOptions& options, std::uint32_t doc,
                         CounterRng& rng, std::vector<Chunk>& out) {
  walk_chunks(corpus, options, doc, rng,
              [&](std::uint32_t first, std::uint32_t a_end, std::uint32_t end, std::uint64_t tokens,
                  std::uint32_t target) {
                if (tokens >= 2) out.push_back({doc, first, a_end, end, target, 0});
                return end;
              });
}

// MLM only (RoBERTa's DOC-SENTENCES): as many whole sentences as fit.
void plan_contiguous_document(const TokenCorpus& corpus, const InstanceOptions& options, std::uint32_t doc,
                              std::vector<Chunk>& out) {
  const std::uint32_t n = corpus.num_sentences(doc);
  const auto max_tokens = static_cast<std::uint32_t>(options.max_seq_length - 2);
  std::uint32_t first = 0;
  std::uint64_t length = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t len = corpus.sentence_length(doc, i);
    if (i > first && length + len > max_tokens) {
      out.push_back({doc, first, i, i, max_tokens, 0});
      first = i;
      length = 0;
    }
    length += len;
  }
  if (first < n) out.push_back({doc, first, n, n, max_tokens, 0});
}

}  // namespace

std::vector<Chunk> plan_chunks(const TokenCorpus& corpus, const InstanceOptions& options, std::uint64_t seed,
                               std::uint64_t key) {
  std::vector<Chunk> chunks;
  chunks.reserve(corpus.total_tokens() / std::max<std::int32_t>(1, options.max_seq_length - 3) + corpus.num_documents());
  for (std::uint32_t doc = 0; doc < corpus.num_documents(); ++doc) {
    CounterRng rng(seed, Stream::kPlan, {key, doc});
    switch (options.pair_task) {
      case PairTask::Nsp:
        plan_nsp_document(corpus, options, doc, rng, chunks);
        break;
      case PairTask::Sop:
        plan_order_document(corpus, options, doc, rng, chunks);
        break;
      case PairTask::None:
        plan_contiguous_document(corpus, options, doc, chunks);
        break;
    }
  }
  return chunks;
}

EpochPlan make_epoch_plan(const TokenCorpus& corpus, const InstanceOptions& instances, const MaskingOptions& masking,
                          std::uint64_t seed, std::uint64_t build_seed, std::int64_t epoch, bool shuffle) {
  EpochPlan plan;
  if (masking.static_masking) {
    // Keys with the top bit set never collide with epoch numbers.
    constexpr std::uint64_t kStaticKey = 1ull << 63;
    for (std::int32_t dupe = 0; dupe < masking.dupe_factor; ++dupe) {
      auto chunks = plan_chunks(corpus, instances, build_seed, kStaticKey | static_cast<std::uint64_t>(dupe));
      plan.chunks.insert(plan.chunks.end(), chunks.begin(), chunks.end());
    }
    plan.instance_seed = build_seed;
    plan.instance_key = kStaticKey;
  } else {
    plan.chunks = plan_chunks(corpus, instances, seed, static_cast<std::uint64_t>(epoch));
    plan.instance_seed = seed;
    plan.instance_key = static_cast<std::uint64_t>(epoch);
  }
  plan.order.resize(plan.chunks.size());
  std::iota(plan.order.begin(), plan.order.end(), 0u);
  if (shuffle) {
    CounterRng rng(seed, Stream::kOrder, {static_cast<std::uint64_t>(epoch)});
    rng.shuffle(plan.order.data(), plan.order.size());
  }
  return plan;
}

}  // namespace bf::data
