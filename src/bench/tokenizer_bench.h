#pragma once
// tokenizer bench: encoding MB/s on one thread and on all cores, the fastest
// of `repeat` runs of each (scripts/bench_tokenizer.sh).
#include <string>

#include "tokenizer/tokenizer.h"

namespace bf::bench {

// threads: the parallel run's threads, 0 = all cores.
void run_tokenizer_bench(const tok::Tokenizer& tokenizer, const std::string& input, int threads, int repeat);

}  // namespace bf::bench
