// libFuzzer target: see fuzz_entries.h for what bf::fuzz::fuzz_shard checks.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return bf::fuzz::fuzz_shard(data, size);
}
