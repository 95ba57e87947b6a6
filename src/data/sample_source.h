#pragma once
// Samples by address: sample (epoch, position) is the chunk at `position` of
// the epoch's shuffled order, built and masked from random streams keyed by
// (seed, epoch, chunk index). Nothing here depends on which thread asks, in
// what order, or what was asked before; the loader is only a scheduler on
// top of this.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "data/epoch_plan.h"
#include "data/instance_builder.h"
#include "data/masker.h"
#include "data/manifest.h"

namespace bf::data {

class TokenCorpus;

struct Sample {
  Instance instance;  // tokens after masking
  std::vector<std::int32_t> masked_positions;
  std::vector<std::int32_t> masked_labels;
  std::int64_t epoch = 0;
  std::int64_t position = 0;
  std::uint32_t chunk_index = 0;
};

struct SampleOptions {
  InstanceOptions instances;
  MaskingOptions masking;
  std::uint64_t seed = 0;        // the run's seed: order, dynamic instances and masks
  std::uint64_t build_seed = 0;  // static instances and masks
  bool shuffle = true;
};

class SampleSource {
 public:
  SampleSource(std::shared_ptr<const TokenCorpus> corpus, SampleOptions options, const TokenizerInfo& tokenizer);

  std::shared_ptr<const EpochPlan> plan(std::int64_t epoch) const;  // cached, thread-safe
  std::int64_t samples_in_epoch(std::int64_t epoch) const;

  void sample(std::int64_t epoch, std::int64_t position, Sample& out) const;
  void sample(const EpochPlan& plan, std::int64_t epoch, std::int64_t position, Sample& out) const;

  const TokenCorpus& corpus() const { return *corpus_; }
  const SampleOptions& options() const { return options_; }
  const TokenizerInfo& tokenizer() const { return tokenizer_; }

 private:
  std::shared_ptr<const TokenCorpus> corpus_;
  SampleOptions options_;
  TokenizerInfo tokenizer_;
  InstanceBuilder builder_;
  Masker masker_;
  mutable std::mutex plans_mutex_;
  mutable std::map<std::int64_t, std::shared_ptr<const EpochPlan>> plans_;
};

}  // namespace bf::data
