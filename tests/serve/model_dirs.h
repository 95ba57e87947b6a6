#pragma once
// Fine-tuned model directories of every head without training: HF's tiny
// reference models of ../shared/reference with a 1,000-token WordPiece
// vocabulary cut from BERT's and a bertforge_data block (as
// tests/cli/test_cli_pinned.cpp builds them).
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/shared_data.h"

namespace bf::test {

inline std::string slurp_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> file_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

inline std::string tiny_vocab_text() {
  const auto all = file_lines(shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"));
  std::vector<std::string> out{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::set<std::string> seen(out.begin(), out.end());
  auto add = [&](const std::string& t) {
    if (out.size() < 1000 && seen.insert(t).second) out.push_back(t);
  };
  for (const auto& t : all)
    if (t.size() == 1 && t[0] > 32 && t[0] < 127) add(t);
  for (const auto& t : all)
    if (t.size() == 3 && t.rfind("##", 0) == 0 && std::isalnum(static_cast<unsigned char>(t[2]))) add(t);
  for (std::size_t i = 1996; i < all.size() && out.size() < 1000; ++i) add(all[i]);
  std::string text;
  for (const auto& t : out) text += t + "\n";
  return text;
}

// root/name: reference model `reference` with `patch` merged into config.json.
inline std::string tiny_model_dir(const std::string& root, const std::string& name, const std::string& reference,
                                  const nlohmann::json& patch) {
  namespace fs = std::filesystem;
  const auto dir = root + "/" + name;
  fs::create_directories(dir);
  const auto ref = shared_path("reference/" + reference);
  fs::copy_file(ref + "/model.safetensors", dir + "/model.safetensors", fs::copy_options::overwrite_existing);
  auto config = nlohmann::json::parse(slurp_file(ref + "/config.json"));
  config.merge_patch(patch);
  std::ofstream(dir + "/config.json") << config.dump(1) << "\n";
  std::ofstream(dir + "/vocab.txt") << tiny_vocab_text();
  return dir;
}

inline std::string tiny_classifier(const std::string& root) {
  return tiny_model_dir(root, "cls", "tiny-cls",
                        {{"bertforge_data", {{"text_column", "sentence"}, {"label_column", "label"}, {"max_seq_length", 48}}}});
}

inline std::string tiny_tagger(const std::string& root) {
  return tiny_model_dir(root, "tagger", "tiny-tokcls",
                        {{"bertforge_data",
                          {{"task", "token_classification"},
                           {"format", "auto"},
                           {"tag_scheme", "iob2"},
                           {"max_seq_length", 24},
                           {"window_stride", 8},
                           {"label_all_pieces", false}}}});
}

inline std::string tiny_reader(const std::string& root) {
  return tiny_model_dir(root, "reader", "tiny-qa",
                        {{"bertforge_data",
                          {{"task", "question_answering"},
                           {"max_seq_length", 64},
                           {"doc_stride", 24},
                           {"max_query_length", 16},
                           {"n_best_size", 20},
                           {"max_answer_length", 30},
                           {"version_2_with_negative", false},
                           {"null_score_diff_threshold", 0.0},
                           {"qa_metric", "squad"}}}});
}

}  // namespace bf::test
