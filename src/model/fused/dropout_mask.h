#pragma once
// The dropout mask every path of the model draws the same way: one 64-bit
// seed from the default CPU generator per mask, and element i dropped when
// half (i % 2) of splitmix64(seed + i / 2) is below p * 2^32. A pure
// function of (seed, index): the same mask on any thread count, regenerated
// in backward instead of stored, and resumed exactly from a checkpoint's
// generator state. model/dropout.h applies it to a tensor; the fused kernels
// (kernels.h) apply it inside their larger passes.
//
// This header is torch-free (kernels.cpp includes it); only draw_dropout's
// definition touches LibTorch's generator.
#include <cstdint>

#include "util/splitmix64.h"

namespace bf::model::fused {

struct DropoutDraw {
  std::uint64_t seed = 0;
  std::uint64_t threshold = 0;  // p * 2^32; 0 keeps every element
  float keep_scale = 1.0f;      // 1 / (1 - p), rounded to fp32 as the reference's mask is
  bool active() const { return threshold != 0; }
};

// One draw of the mask's seed from the default CPU generator, with p's
// threshold (0 <= p < 1).
DropoutDraw draw_dropout(double p);

// The 64 bits that decide elements 2 * pair (low half) and 2 * pair + 1
// (high half).
inline std::uint64_t dropout_pair_bits(const DropoutDraw& d, std::uint64_t pair) { return splitmix64(d.seed + pair); }

// Whether the low (second = false) or high half of a pair's bits drops its element.
inline bool dropout_drops(const DropoutDraw& d, std::uint64_t bits, bool second) {
  return (second ? bits >> 32 : bits & 0xffffffffULL) < d.threshold;
}

}  // namespace bf::model::fused
