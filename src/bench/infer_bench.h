#pragma once
// bench infer: classifier passes over short texts, dynamic padding against
// padding to a fixed length (predict, or fine-tuning steps with --train).
#include <cstdint>
#include <string>

namespace bf::bench {

struct InferBenchOptions {
  // classification (synthetic or --input texts) | token_classification
  // (--input CoNLL) | question_answering (--input SQuAD JSON); the last two
  // time the whole predict path (bench/task_infer_bench.h).
  std::string task = "classification";
  std::string preset = "base";
  std::string tokenizer;
  std::string input;
  std::int64_t batch = 32;
  std::int64_t pad_to = 128;
  std::int64_t max_texts = 256;
  std::string precision = "fp32";
  std::string device = "auto";
  bool train = false;
  int repeat = 2;
  std::string json;
};

void run_infer_bench(const InferBenchOptions& options);

}  // namespace bf::bench
