#pragma once
// Trains a SentencePiece tokenizer from YAML settings
// (`bertforge tokenizer train --config configs/tokenizer.yaml`) and writes a
// tokenizer directory: spm.model, spm.vocab and tokenizer_config.json. BERT's
// special tokens get fixed ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/config_reader.h"

namespace bf::tok {

struct SpmTrainConfig {
  std::vector<std::string> input;  // text files, one sentence per line
  std::string output_dir;
  std::string model_type = "unigram";
  int vocab_size = 32000;
  double character_coverage = 0.9995;  // 1.0 for Chinese and other large character sets
  bool byte_fallback = false;
  // Sentences sampled from the input (0: all). Keeps training on a large
  // corpus to a minute or two; the sample is shuffled when requested.
  int input_sentence_size = 1000000;
  bool shuffle_input_sentence = true;
  int num_threads = 0;  // 0: all cores
  std::string normalization_rule_name = "nmt_nfkc";
  bool split_digits = false;
  int max_sentence_length = 4192;  // bytes; longer sentences are skipped
  int max_sentencepiece_length = 16;
  bool hard_vocab_limit = true;
  int seed = 42;
  bool verbose = false;  // sentencepiece's own progress log on stderr

  template <class V>
  void visit(V& v) {
    v.required("input", input);
    v.required("output_dir", output_dir);
    v.field("model_type", model_type, one_of({"unigram", "bpe"}));
    v.field("vocab_size", vocab_size, in_range(16, 1 << 20));
    v.field("character_coverage", character_coverage, in_range(0.9, 1.0));
    v.field("byte_fallback", byte_fallback);
    v.field("input_sentence_size", input_sentence_size, non_negative<int>());
    v.field("shuffle_input_sentence", shuffle_input_sentence);
    v.field("num_threads", num_threads, non_negative<int>());
    v.field("normalization_rule_name", normalization_rule_name,
            one_of({"nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf", "identity"}));
    v.field("split_digits", split_digits);
    v.field("max_sentence_length", max_sentence_length, positive<int>());
    v.field("max_sentencepiece_length", max_sentencepiece_length, in_range(1, 512));
    v.field("hard_vocab_limit", hard_vocab_limit);
    v.field("seed", seed, non_negative<int>());
    v.field("verbose", verbose);
    if (input.empty()) v.invalid("input", "must list at least one file");
  }
};

// Trains, writes config.output_dir and returns the tokenizer loaded from it.
// Errors (missing input, vocab too small for the characters, ...) come back
// as bf::Error with sentencepiece's message.
std::unique_ptr<Tokenizer> train_sentencepiece(const SpmTrainConfig& config);

}  // namespace bf::tok
