#pragma once
// Small fine-tuning runs on real text for tests: slices of ../shared SST-2,
// BERT's uncased vocabulary, an L2 H32 model trained for a few steps.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/metrics_records.h"
#include "../support/shared_data.h"
#include "finetune/finetune_config.h"
#include "train/trainer.h"

namespace bf::test {

inline void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

inline void write_gzip(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz != nullptr);
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
}

// The first `rows` data rows of an SST-2 file (sentence \t label), header kept.
inline std::string sst2_slice(const std::string& split, const std::string& out, int rows) {
  std::ifstream in(shared_path("data/sst2/" + split + ".tsv"));
  std::ofstream o(out);
  std::string line;
  for (int i = 0; i <= rows && std::getline(in, line); ++i) o << line << "\n";
  return out;
}

inline std::vector<std::string> sst2_sentences(int rows) {
  std::ifstream in(shared_path("data/sst2/train.tsv"));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> out;
  while (static_cast<int>(out.size()) < rows && std::getline(in, line)) out.push_back(line.substr(0, line.find('\t')));
  return out;
}

inline std::string vocab_dir(const std::string& dir) {
  const auto tok = dir + "/tokenizer";
  std::filesystem::create_directories(tok);
  std::filesystem::copy_file(shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"), tok + "/vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  return tok;
}

// A from-scratch L2 H32 classifier on the given files, writing into dir/run.
inline std::string tiny_finetune_yaml(const std::string& dir, const std::string& train, const std::string& dev,
                                      const std::string& data_extra = "") {
  return "run: {name: test, output_dir: " + dir + "/run, seed: 11, device: cpu, threads: 1}\n"
         "model:\n"
         "  preset: tiny\n"
         "  hidden_size: 32\n"
         "  num_attention_heads: 2\n"
         "  intermediate_size: 64\n"
         "  max_position_embeddings: 64\n"
         "  tokenizer: " + vocab_dir(dir) + "\n"
         "data:\n"
         "  train: " + train + "\n"
         "  dev: " + dev + "\n"
         "  text_column: sentence\n"
         "  max_seq_length: 48\n" + data_extra +
         "optimizer: {lr: 1.0e-3}\n"
         "schedule: {name: linear, warmup_steps: 1}\n"
         "training: {batch_size: 8, max_steps: 6}\n"
         "eval: {every_steps: 3, batch_size: 16}\n"
         "checkpoint: {every_steps: 0, keep_last: 5}\n"
         "logging: {every_steps: 1, progress_seconds: 1000}\n";
}

inline ft::FinetuneConfig tiny_finetune_config(const std::string& dir, const std::string& train, const std::string& dev,
                                               const std::vector<std::string>& overrides = {},
                                               const std::string& data_extra = "") {
  const auto file = dir + "/finetune.yaml";
  write_text(file, tiny_finetune_yaml(dir, train, dev, data_extra));
  return ft::load_finetune_config(file, overrides);
}

// Trains a fine-tuning task as `bertforge finetune` does (best model kept,
// patience), from `resume_from` when given.
inline train::TrainResult train_task(train::TrainingTask& task, const ft::FinetuneConfig& config,
                                     const std::string& resume_from = "") {
  train::TrainerSettings settings{config.run,        config.optimizer, config.schedule,       config.training,
                                  config.checkpoint, config.logging,   config_to_yaml(config)};
  settings.patience = config.eval.patience;
  settings.save_best_model = true;
  train::Trainer trainer(settings, task, torch::kCPU);
  if (!resume_from.empty()) trainer.resume_from(resume_from);
  return trainer.train();
}

}  // namespace bf::test
