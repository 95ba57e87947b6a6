// libFuzzer target: see fuzz_entries.h for what bf::fuzz::fuzz_sentencepiece checks.
#include "fuzz_entries.h"

// Trains the small model before the first input, so the training time is not
// charged to an input (and cannot trip libFuzzer's -timeout).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)bf::fuzz::fuzz_spm_tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return bf::fuzz::fuzz_sentencepiece(data, size);
}
