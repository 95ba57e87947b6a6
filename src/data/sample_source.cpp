#include "data/sample_source.h"

#include "data/counter_rng.h"
#include "data/token_corpus.h"
#include "util/error.h"

namespace bf::data {

SampleSource::SampleSource(std::shared_ptr<const TokenCorpus> corpus, SampleOptions options,
                           const TokenizerInfo& tokenizer)
    : corpus_(std::move(corpus)),
      options_(options),
      tokenizer_(tokenizer),
      builder_(*corpus_, options.instances, tokenizer.special),
      masker_(options.masking, tokenizer.special, tokenizer.vocab_size) {
  if (corpus_->num_documents() == 0) {
    bf::fail(corpus_->dir() + ": the " + corpus_->split() + " split has no documents" +
             (corpus_->split() == "heldout" ? " (raise data.heldout_fraction and rebuild)" : ""));
  }
}

std::shared_ptr<const EpochPlan> SampleSource::plan(std::int64_t epoch) const {
  std::lock_guard<std::mutex> lock(plans_mutex_);
  auto it = plans_.find(epoch);
  if (it != plans_.end()) return it->second;
  auto plan = std::make_shared<const EpochPlan>(make_epoch_plan(*corpus_, options_.instances, options_.masking,
                                                                options_.seed, options_.build_seed, epoch,
                                                                options_.shuffle));
  // Workers straddle at most an epoch boundary: keep the newest few.
  while (plans_.size() >= 3) plans_.erase(plans_.begin());
  plans_.emplace(epoch, plan);
  return plan;
}

std::int64_t SampleSource::samples_in_epoch(std::int64_t epoch) const {
  return static_cast<std::int64_t>(plan(epoch)->chunks.size());
}

void SampleSource::sample(std::int64_t epoch, std::int64_t position, Sample& out) const {
  sample(*plan(epoch), epoch, position, out);
}

void SampleSource::sample(const EpochPlan& plan, std::int64_t epoch, std::int64_t position, Sample& out) const {
  if (position < 0 || position >= static_cast<std::int64_t>(plan.order.size())) {
    bf::fail("sample position " + std::to_string(position) + " is outside epoch " + std::to_string(epoch) + " (" +
             std::to_string(plan.order.size()) + " samples)");
  }
  const std::uint32_t index = plan.order[static_cast<std::size_t>(position)];
  CounterRng instance_rng(plan.instance_seed, Stream::kInstance, {plan.instance_key, index});
  builder_.build(plan.chunks[index], instance_rng, out.instance);
  CounterRng mask_rng(plan.instance_seed, Stream::kMask, {plan.instance_key, index});
  masker_.apply(out.instance, mask_rng, out.masked_positions, out.masked_labels);
  out.epoch = epoch;
  out.position = position;
  out.chunk_index = index;
}

}  // namespace bf::data
