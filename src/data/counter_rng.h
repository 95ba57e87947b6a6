#pragma once
// A counter-based random generator: the n-th number of a stream is a pure
// function of (key, n), so a sample's randomness depends only on the numbers
// that name it (seed, epoch, sample index, purpose) and never on which thread
// made it, in what order, or after how many earlier samples.
#include <cstdint>
#include <initializer_list>
#include <utility>

#include "util/splitmix64.h"

namespace bf::data {

// Purposes, so that two uses of the same (seed, epoch, index) never share numbers.
enum class Stream : std::uint64_t {
  kPlan = 0x706c616e,      // segmenting a document into chunks
  kOrder = 0x6f726465,     // the shuffled order of an epoch
  kInstance = 0x696e7374,  // random B, truncation
  kMask = 0x6d61736b,      // masked positions and replacements
  kSplit = 0x73706c74,     // held-out split
};

class CounterRng {
 public:
  CounterRng(std::uint64_t seed, Stream stream, std::initializer_list<std::uint64_t> ids) {
    key_ = splitmix64(seed ^ 0x62657274666f7267ULL);
    key_ = splitmix64(key_ ^ static_cast<std::uint64_t>(stream));
    for (std::uint64_t id : ids) key_ = splitmix64(key_ ^ splitmix64(id + 0x51ed270b7a2c4d1fULL));
  }

  std::uint64_t next_u64() { return splitmix64(key_ + 0x9e3779b97f4a7c15ULL * ++counter_); }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  bool bernoulli(double p) { return uniform() < p; }

  // Uniform in [0, n), n > 0, without modulo bias (Lemire's method).
  std::uint64_t below(std::uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi], both inclusive (Python's random.randint).
  std::int64_t randint(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

  template <class T>
  void shuffle(T* items, std::size_t n) {
    for (std::size_t i = n; i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

 private:
  std::uint64_t key_ = 0;
  std::uint64_t counter_ = 0;
};

}  // namespace bf::data
