#pragma once
// LibTorch's CPU allocator hands every block to malloc, and glibc maps blocks
// over 32 MB (its largest mmap threshold) fresh from the kernel each time: a
// BERT-base step allocates ~440 MB of such blocks (the word-embedding
// gradient three times, the MLM logits and their gradients), and the kernel
// faults in and zeroes all of it again every step, ~5 % of the step.
//
// install_large_block_cache() puts an allocator in front of LibTorch's that
// keeps freed blocks of 16 MiB and more for the next allocation of (about)
// the same size, up to `max_cached_bytes` kept idle; smaller blocks go to
// LibTorch's own allocator as before. Builds with AddressSanitizer skip it, so
// ASan still sees every use after free.
#include <cstddef>

namespace bf {

void install_large_block_cache(std::size_t max_cached_bytes);

// True once installed (never under AddressSanitizer).
bool large_block_cache_installed();

// Bytes of freed large blocks held for reuse right now.
std::size_t large_block_cache_idle_bytes();

}  // namespace bf
