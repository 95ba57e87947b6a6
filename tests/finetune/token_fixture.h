#pragma once
// Small slices of WNUT-17 (CoNLL) and CMRC 2018 (SQuAD JSON) from ../shared,
// and a from-scratch tiny model config for the token-level tasks.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../support/shared_data.h"
#include "finetune/finetune_config.h"
#include "ft_fixture.h"

namespace bf::test {

// The first `sentences` sentences of a WNUT-17 split.
inline std::string wnut_slice(const std::string& split, const std::string& out, int sentences) {
  std::ifstream in(shared_path("data/wnut17/" + split + ".conll"));
  std::ofstream o(out);
  std::string line;
  int done = 0;
  bool in_sentence = false;
  while (done < sentences && std::getline(in, line)) {
    o << line << "\n";
    if (line.empty()) {
      if (in_sentence) ++done;
      in_sentence = false;
    } else {
      in_sentence = true;
    }
  }
  return out;
}

// The first `questions` questions of a CMRC 2018 file, in SQuAD layout.
inline std::string cmrc_subset(const std::string& file, const std::string& out, int questions) {
  std::ifstream in(shared_path("data/cmrc2018/" + file));
  const auto all = nlohmann::json::parse(in);
  nlohmann::json data = nlohmann::json::array();
  int taken = 0;
  for (const auto& article : all["data"]) {
    if (taken >= questions) break;
    nlohmann::json a = {{"title", article.value("title", "")}, {"paragraphs", nlohmann::json::array()}};
    for (const auto& p : article["paragraphs"]) {
      if (taken >= questions) break;
      nlohmann::json para = {{"context", p["context"]}, {"qas", nlohmann::json::array()}};
      for (const auto& qa : p["qas"]) {
        if (taken >= questions) break;
        para["qas"].push_back(qa);
        ++taken;
      }
      a["paragraphs"].push_back(para);
    }
    data.push_back(a);
  }
  std::ofstream(out) << nlohmann::json{{"version", "v1.0"}, {"data", data}}.dump();
  return out;
}

inline std::string chinese_vocab_dir(const std::string& dir) {
  const auto tok = dir + "/tokenizer-zh";
  std::filesystem::create_directories(tok);
  std::filesystem::copy_file(shared_path("data/bert_vocab/bert-base-chinese-vocab.txt"), tok + "/vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  return tok;
}

// A from-scratch L2 H32 model for a token-level task on the given files.
inline ft::FinetuneConfig tiny_token_config(const std::string& dir, const std::string& task, const std::string& train,
                                            const std::string& dev, const std::string& tokenizer,
                                            const std::vector<std::string>& overrides = {},
                                            int max_seq_length = 64) {
  const std::string yaml =
      "run: {name: test, output_dir: " + dir + "/run, seed: 5, device: cpu, threads: 1}\n"
      "model:\n"
      "  preset: tiny\n"
      "  hidden_size: 32\n"
      "  num_attention_heads: 2\n"
      "  intermediate_size: 64\n"
      "  max_position_embeddings: 128\n"
      "  tokenizer: " + tokenizer + "\n"
      "data:\n"
      "  task: " + task + "\n"
      "  train: " + train + "\n"
      "  dev: " + dev + "\n"
      "  max_seq_length: " + std::to_string(max_seq_length) + "\n"
      "  doc_stride: 24\n"
      "  max_query_length: 16\n"
      "optimizer: {lr: 2.0e-3}\n"
      "schedule: {name: linear, warmup_steps: 1}\n"
      "training: {batch_size: 8, max_steps: 6}\n"
      "eval: {every_steps: 3, batch_size: 16}\n"
      "checkpoint: {every_steps: 0, keep_last: 5}\n"
      "logging: {every_steps: 1, progress_seconds: 1000}\n";
  const auto file = dir + "/" + task + ".yaml";
  write_text(file, yaml);
  return ft::load_finetune_config(file, overrides);
}

}  // namespace bf::test
