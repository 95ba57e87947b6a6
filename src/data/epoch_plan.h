#pragma once
// The segmentation of every document into chunks (Google's
// create_instances_from_document, minus the tokens): which sentences form
// segment A, whether B is the true continuation or comes from another
// document, and where the next chunk starts (unused sentences are put back).
// It needs only sentence lengths, so a whole epoch is planned in one fast
// pass; each chunk then becomes one sample, built on demand.
#include <cstdint>
#include <vector>

#include "data/instance_options.h"

namespace bf::data {

class TokenCorpus;

struct Chunk {
  std::uint32_t doc = 0;
  std::uint32_t first = 0;   // first sentence of A (within the document)
  std::uint32_t a_end = 0;   // one past the last sentence of A
  std::uint32_t end = 0;     // one past the last sentence of B when B follows A; == a_end when B is random
  std::uint32_t target = 0;  // target length of A + B in tokens
  std::uint8_t random_next = 0;
};

// Chunks of all documents in order; randomness from (seed, key, document).
std::vector<Chunk> plan_chunks(const TokenCorpus& corpus, const InstanceOptions& options, std::uint64_t seed,
                               std::uint64_t key);

// One epoch: its chunks, the order they are visited in, and the keys of the
// per-sample random streams (sample i draws from (instance_seed, instance_key, i)).
struct EpochPlan {
  std::vector<Chunk> chunks;
  std::vector<std::uint32_t> order;
  std::uint64_t instance_seed = 0;
  std::uint64_t instance_key = 0;
};

// Dynamic: chunks and samples keyed by (seed, epoch). Static: dupe_factor
// plans keyed by the build seed, identical every epoch; only the order moves.
EpochPlan make_epoch_plan(const TokenCorpus& corpus, const InstanceOptions& instances, const MaskingOptions& masking,
                          std::uint64_t seed, std::uint64_t build_seed, std::int64_t epoch, bool shuffle);

}  // namespace bf::data
