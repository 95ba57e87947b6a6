#pragma once
// Which examples go into which batch, epoch by epoch. The order is a pure
// function of (seed, epoch), so the data cursor is just (epoch, batch) and a
// resumed run sees exactly the batches an uninterrupted one would.
#include <cstdint>
#include <vector>

#include "infer/batches.h"

namespace bf::ft {

using BatchIndex = infer::BatchIndex;

struct PlanOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  // Sort each window of `group_window` batches by length before cutting it
  // into batches, then shuffle the batches: short texts are padded only to
  // other short texts, while every epoch still mixes the data.
  bool group_by_length = false;
  std::int64_t group_window = 50;
};

BatchIndex plan_epoch(const std::vector<std::int64_t>& lengths, const PlanOptions& options, std::uint64_t seed,
                      std::int64_t epoch);

std::int64_t batches_per_epoch(std::int64_t examples, std::int64_t batch_size);

}  // namespace bf::ft
