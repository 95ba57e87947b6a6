#pragma once
// What `bertforge tokenizer inspect` and `encode` print, beside the tokenizer
// they print: a summary of a tokenizer, and lines of stdin encoded to ids or
// pieces (one output line per input line).
#include <cstdio>
#include <istream>
#include <string>

#include "tokenizer/tokenizer.h"

namespace bf::tok {

// Type, vocab size, content hash, special ids and one sample's pieces, ids,
// word starts and decoding.
void print_summary(const Tokenizer& tokenizer, const std::string& sample, std::FILE* out);

struct EncodeOptions {
  bool pieces = false;   // pieces instead of ids
  bool special = false;  // [CLS] ... [SEP]
  bool pair = false;     // tab-separated pairs: input_ids, token_type_ids, attention_mask
  bool pad = false;      // pairs: padded to max_length
  int max_length = 0;    // 0: no limit (512 for pairs)
  int threads = 0;       // 0: all cores
};

// Encodes each line of `in` (a trailing CR dropped) and writes one line per
// input line to `out`, in input order; lines are encoded in batches on the
// threads.
void encode_lines(const Tokenizer& tokenizer, const EncodeOptions& options, std::istream& in, std::FILE* out);

}  // namespace bf::tok
