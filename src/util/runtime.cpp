#include "util/runtime.h"

#include "util/large_block_cache.h"

#include <ATen/Parallel.h>
#include <malloc.h>
#include <sched.h>

#include <thread>

namespace bf {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

void tune_allocator() {
  // The largest mmap threshold glibc accepts; above it blocks are still
  // mapped (the 94 MB embedding gradient of BERT-base, once a step).
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  // Never trim the heap top back to the kernel mid-run.
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  // Blocks above glibc's mmap threshold are kept by our own cache instead.
  install_large_block_cache(std::size_t{1} << 30);
}

void set_threads(int threads) {
  const int n = threads > 0 ? threads : available_cores();
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

}  // namespace bf
