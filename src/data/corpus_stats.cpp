#include "data/corpus_stats.h"

#include <algorithm>

#include "data/sample_source.h"

namespace bf::data {

SequenceStats measure_sequences(const SampleSource& source, std::int64_t epoch, std::int64_t max_samples) {
  SequenceStats stats;
  const auto plan = source.plan(epoch);
  stats.samples_per_epoch = static_cast<std::int64_t>(plan->chunks.size());
  const std::int64_t n = std::min(stats.samples_per_epoch, max_samples);
  if (n == 0) return stats;
  // Evenly spaced positions of the shuffled order: an unbiased sample.
  Sample sample;
  double length = 0, masked = 0, random_next = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t position = i * stats.samples_per_epoch / n;
    source.sample(*plan, epoch, position, sample);
    length += static_cast<double>(sample.instance.tokens.size());
    masked += static_cast<double>(sample.masked_positions.size());
    random_next += sample.instance.next_sentence_label == 1 ? 1 : 0;
  }
  stats.measured = n;
  stats.average_length = length / n;
  stats.average_fill = stats.average_length / source.options().instances.max_seq_length;
  stats.average_masked = masked / n;
  stats.random_next_share = random_next / n;
  return stats;
}

}  // namespace bf::data
