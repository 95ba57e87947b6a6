#include "util/runtime.h"

#include <ATen/Parallel.h>
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

void set_threads(int threads) {
  const int n = threads > 0 ? threads : available_cores();
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

}  // namespace bf
