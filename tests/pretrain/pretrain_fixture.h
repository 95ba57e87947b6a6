#pragma once
// A tiny pretraining run on real text for trainer tests: BERT's uncased
// vocab, a few hundred lines of ../shared/data/en_pretrain, an L2 H32 model.
#include <filesystem>
#include <fstream>
#include <string>

#include "../support/shared_data.h"
#include "pretrain/pretrain_config.h"

namespace bf::test {

inline std::string tiny_corpus(const std::string& dir, int lines = 1500) {
  std::ifstream in(shared_path("data/en_pretrain/en_pretrain.txt"));
  const std::string path = dir + "/corpus.txt";
  std::ofstream out(path);
  std::string line;
  for (int i = 0; i < lines && std::getline(in, line); ++i) out << line << "\n";
  return path;
}

inline std::string wordpiece_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const auto tok = dir + "/tokenizer";
  fs::create_directories(tok);
  fs::copy_file(shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"), tok + "/vocab.txt",
                fs::copy_options::overwrite_existing);
  return tok;
}

// The YAML text of a small run writing into dir/run.
inline std::string tiny_run_yaml(const std::string& dir, const std::string& corpus, const std::string& tokenizer) {
  return "run: {name: test, output_dir: " + dir + "/run, seed: 7, device: cpu, threads: 1}\n"
         "tokenizer: " + tokenizer + "\n"
         "data:\n"
         "  inputs: [{path: " + corpus + ", format: google}]\n"
         "  output: " + dir + "/data\n"
         "  heldout_fraction: 0.1\n"
         "  max_seq_length: 48\n"
         "  max_predictions_per_seq: 8\n"
         "  loader_threads: 2\n"
         "model: {preset: tiny, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64,"
         " max_position_embeddings: 64}\n"
         "optimizer: {lr: 1.0e-3}\n"
         "schedule: {name: linear, warmup_steps: 2}\n"
         "training: {batch_size: 4, max_steps: 6}\n"
         "eval: {every_steps: 3, max_batches: 2}\n"
         "checkpoint: {every_steps: 0, keep_last: 5}\n"
         "logging: {every_steps: 1, progress_seconds: 1000}\n";
}

inline pretrain::PretrainConfig tiny_run_config(const std::string& dir, const std::vector<std::string>& overrides = {},
                                             int corpus_lines = 1500) {
  const auto tokenizer = wordpiece_dir(dir);
  const auto corpus = tiny_corpus(dir, corpus_lines);
  const std::string file = dir + "/run.yaml";
  std::ofstream(file) << tiny_run_yaml(dir, corpus, tokenizer);
  return pretrain::load_pretrain_config(file, overrides);
}

}  // namespace bf::test
