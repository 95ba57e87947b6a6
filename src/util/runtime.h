#pragma once
// Process-wide settings applied once at the start of every command.
#include <string>

namespace bf {

// Sets intra-op threads (0 = all cores). LibTorch here starts at 1 thread.
void set_threads(int threads);
int available_cores();

}  // namespace bf
