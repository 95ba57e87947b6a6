#pragma once
// Fine-tuned model directories without training: HF's tiny reference models
// of ../shared/reference with config.json patched (a bertforge_data block,
// another problem type) and a 1,000-token WordPiece vocabulary cut from
// BERT's. A caller of reference_model_dir links io (its `weights` are written
// as safetensors).
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"
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

// root/name: the reference model's weights (or `weights` instead), its
// config.json with `patch` merged in, and the vocabulary.
inline std::string reference_model_dir(const std::string& root, const std::string& name, const std::string& reference,
                                       const nlohmann::json& patch,
                                       const std::vector<std::pair<std::string, torch::Tensor>>& weights = {}) {
  namespace fs = std::filesystem;
  const auto dir = root + "/" + name;
  fs::create_directories(dir);
  const auto ref = shared_path("reference/" + reference);
  if (weights.empty()) {
    fs::copy_file(ref + "/model.safetensors", dir + "/model.safetensors", fs::copy_options::overwrite_existing);
  } else {
    io::save_safetensors(dir + "/model.safetensors", weights);
  }
  auto config = nlohmann::json::parse(slurp_file(ref + "/config.json"));
  config.merge_patch(patch);
  std::ofstream(dir + "/config.json", std::ios::binary) << config.dump(1) << "\n";
  std::ofstream(dir + "/vocab.txt", std::ios::binary) << reference_vocab_text();
  return dir;
}

// The bertforge_data blocks of the three heads' directories below.
inline nlohmann::json reference_cls_data() {
  return {{"bertforge_data", {{"text_column", "sentence"}, {"label_column", "label"}, {"max_seq_length", 48}}}};
}

inline nlohmann::json reference_tag_data() {
  return {{"bertforge_data",
           {{"task", "token_classification"},
            {"format", "auto"},
            {"tag_scheme", "iob2"},
            {"max_seq_length", 24},
            {"window_stride", 8},
            {"label_all_pieces", false}}}};
}

inline nlohmann::json reference_qa_data() {
  return {{"bertforge_data",
           {{"task", "question_answering"},
            {"max_seq_length", 64},
            {"doc_stride", 24},
            {"max_query_length", 16},
            {"n_best_size", 20},
            {"max_answer_length", 30},
            {"version_2_with_negative", false},
            {"null_score_diff_threshold", 0.0},
            {"qa_metric", "squad"}}}};
}

// root/cls, root/tagger, root/reader: a sentence classifier, a token tagger
// and a SQuAD reader.
inline std::string reference_classifier(const std::string& root) {
  return reference_model_dir(root, "cls", "tiny-cls", reference_cls_data());
}

inline std::string reference_tagger(const std::string& root) {
  return reference_model_dir(root, "tagger", "tiny-tokcls", reference_tag_data());
}

inline std::string reference_reader(const std::string& root) {
  return reference_model_dir(root, "reader", "tiny-qa", reference_qa_data());
}

}  // namespace bf::test
