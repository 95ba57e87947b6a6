#pragma once
// splitmix64 (Steele, Lea & Flood 2014): the 64-bit mixer behind every
// counter-based random draw of bertforge (data order and masks in
// data/counter_rng.h, dropout masks in model/fused/dropout_mask.h): a pure function of its
// input, so draws depend on (seed, index) only, never on threads or order.
#include <cstdint>

namespace bf {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace bf
