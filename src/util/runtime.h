#pragma once
// Process-wide settings applied once at the start of every command.
#include <string>

namespace bf {

// Sets intra-op threads (0 = all cores). LibTorch here starts at 1 thread.
void set_threads(int threads);
int available_cores();

// Keeps freed tensor memory in the process for reuse. glibc's default hands
// every block over 128 KB (its dynamic threshold grows only to 32 MB) back to
// the kernel with munmap, so each training step faulted in and zeroed its
// activations afresh: a third of a BERT-base step on 2 cores, and twice the
// peak memory. Call first thing in main().
void tune_allocator();

}  // namespace bf
