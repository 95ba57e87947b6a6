#pragma once
// Fine-tuned model directories without training: HF's tiny reference models
// of ../shared/reference with config.json patched (a bertforge_data block,
// another problem type) and a 1,000-token WordPiece vocabulary cut from
// BERT's, as tests/cli/test_cli_pinned.cpp builds them.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "shared_data.h"

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

// 1,000 tokens, the reference models' vocab_size: the specials, every
// printable ASCII character alone and (letters and digits) as a suffix, then
// BERT's words in its (frequency) order.
inline std::string reference_vocab_text() {
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

// root/name: the reference model's weights, its config.json with `patch`
// merged in, and the vocabulary.
inline std::string reference_model_dir(const std::string& root, const std::string& name, const std::string& reference,
                                       const nlohmann::json& patch) {
  namespace fs = std::filesystem;
  const auto dir = root + "/" + name;
  fs::create_directories(dir);
  const auto ref = shared_path("reference/" + reference);
  fs::copy_file(ref + "/model.safetensors", dir + "/model.safetensors", fs::copy_options::overwrite_existing);
  auto config = nlohmann::json::parse(slurp_file(ref + "/config.json"));
  config.merge_patch(patch);
  std::ofstream(dir + "/config.json", std::ios::binary) << config.dump(1) << "\n";
  std::ofstream(dir + "/vocab.txt", std::ios::binary) << reference_vocab_text();
  return dir;
}

}  // namespace bf::test
