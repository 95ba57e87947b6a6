#include "finetune/batch_plan.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace bf::ft {
namespace {

// Fisher-Yates with our own draws: std::shuffle's algorithm is left to the
// standard library, and the order must not change with it.
template <class T>
void shuffle_in_place(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng() % i]);
}

}  // namespace

std::int64_t batches_per_epoch(std::int64_t examples, std::int64_t batch_size) {
  return (examples + batch_size - 1) / batch_size;
}

BatchIndex plan_epoch(const std::vector<std::int64_t>& lengths, const PlanOptions& options, std::uint64_t seed,
                      std::int64_t epoch) {
  std::vector<std::int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(epoch) + 1);
  if (options.shuffle) shuffle_in_place(order, rng);
  if (!options.group_by_length) return infer::cut_batches(order, options.batch_size);
  const auto window = static_cast<std::size_t>(options.batch_size * options.group_window);
  for (std::size_t i = 0; i < order.size(); i += window) {
    auto begin = order.begin() + static_cast<std::ptrdiff_t>(i);
    auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + window));
    infer::sort_longest_first(begin, end, lengths);
  }
  auto batches = infer::cut_batches(order, options.batch_size);
  if (options.shuffle) shuffle_in_place(batches, rng);
  return batches;
}

}  // namespace bf::ft
