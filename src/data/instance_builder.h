#pragma once
// Turns one planned chunk into a sequence: [CLS] A [SEP] B [SEP] with segment
// ids (NSP, SOP), or [CLS] A [SEP] (MLM only). NSP: a random B is a span of
// another document starting at a random sentence, as long as the chunk's
// target leaves room for. SOP (ALBERT): A and B are the chunk's two
// consecutive parts, swapped half the time. The pair is then cut to fit by
// Google's longest-first truncation, one token at a time from the front or
// back at random.
#include <cstdint>
#include <vector>

#include "data/epoch_plan.h"
#include "tokenizer/tokenizer.h"

namespace bf::data {

class CounterRng;
class TokenCorpus;

struct Instance {
  std::vector<std::int32_t> tokens;
  std::vector<std::uint8_t> segment_ids;
  std::vector<std::uint8_t> word_starts;
  std::vector<std::uint8_t> is_special;  // [CLS]/[SEP] added here
  // The pair label: NSP 0 = B follows A, 1 = B is random; SOP 0 = in order,
  // 1 = swapped (ALBERT's sentence_order_label); -100 = no pair task.
  std::int32_t next_sentence_label = -100;

  // Where A and B came from (sentences [first, end) of doc, before truncation;
  // an SOP chunk of one sentence is split inside it: both parts name it).
  std::uint32_t a_doc = 0, a_first = 0, a_end = 0;
  std::uint32_t b_doc = 0, b_first = 0, b_end = 0;
  std::uint32_t a_length = 0, b_length = 0;  // tokens after truncation

  void clear();
};

class InstanceBuilder {
 public:
  InstanceBuilder(const TokenCorpus& corpus, InstanceOptions options, tok::SpecialIds special);

  void build(const Chunk& chunk, CounterRng& rng, Instance& out) const;

 private:
  void build_pair(const Chunk& chunk, CounterRng& rng, Instance& out) const;
  void build_order_pair(const Chunk& chunk, CounterRng& rng, Instance& out) const;
  void build_single(const Chunk& chunk, CounterRng& rng, Instance& out) const;

  const TokenCorpus& corpus_;
  InstanceOptions options_;
  tok::SpecialIds special_;
};

}  // namespace bf::data
