#pragma once
// Statistics of the sequences an epoch makes, measured on a sample of it:
// what `data inspect` and the benchmark print.
#include <cstdint>

namespace bf::data {

class SampleSource;

struct SequenceStats {
  std::int64_t samples_per_epoch = 0;
  std::int64_t measured = 0;
  double average_length = 0;      // tokens incl. [CLS]/[SEP]
  double average_fill = 0;        // average_length / max_seq_length
  double average_masked = 0;      // predictions per sequence
  double random_next_share = 0;   // NSP label 1
};

SequenceStats measure_sequences(const SampleSource& source, std::int64_t epoch, std::int64_t max_samples);

}  // namespace bf::data
