// libFuzzer target: see fuzz_entries.h for what bf::fuzz::fuzz_wordpiece checks.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)bf::fuzz::fuzz_wordpiece_vocab();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return bf::fuzz::fuzz_wordpiece(data, size);
}
