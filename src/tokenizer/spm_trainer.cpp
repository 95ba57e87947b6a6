#include "tokenizer/spm_trainer.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/spm_bridge_loader.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/runtime.h"

namespace bf::tok {
namespace {

namespace fs = std::filesystem;

std::string flag(bool value) { return value ? "true" : "false"; }

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::map<std::string, std::string> trainer_flags(const SpmTrainConfig& c, const std::string& model_prefix) {
  return {
      {"input", join(c.input, ",")},
      {"model_prefix", model_prefix},
      {"model_type", c.model_type},
      {"vocab_size", std::to_string(c.vocab_size)},
      {"character_coverage", std::to_string(c.character_coverage)},
      {"byte_fallback", flag(c.byte_fallback)},
      {"input_sentence_size", std::to_string(c.input_sentence_size)},
      {"shuffle_input_sentence", flag(c.shuffle_input_sentence)},
      {"num_threads", std::to_string(c.num_threads > 0 ? c.num_threads : available_cores())},
      {"normalization_rule_name", c.normalization_rule_name},
      {"split_digits", flag(c.split_digits)},
      {"max_sentence_length", std::to_string(c.max_sentence_length)},
      {"max_sentencepiece_length", std::to_string(c.max_sentencepiece_length)},
      {"hard_vocab_limit", flag(c.hard_vocab_limit)},
      // BERT's specials at fixed ids: pad and unk are sentencepiece's own
      // meta pieces; the control symbols take the next ids in order, and are
      // never produced from text, so a literal "[MASK]" stays text.
      {"pad_id", "0"},
      {"pad_piece", "[PAD]"},
      {"unk_id", "1"},
      {"unk_piece", "[UNK]"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"control_symbols", "[CLS],[SEP],[MASK]"},
      {"minloglevel", c.verbose ? "0" : "1"},
  };
}

// Walks the config's own field list (SpmTrainConfig::visit) into JSON, so
// the manifest records every training setting without a second list.
struct JsonFieldWriter {
  nlohmann::json& out;
  template <class T, class C = int>
  void field(const std::string& key, const T& value, C = {}) {
    out[key] = value;
  }
  template <class T, class C = int>
  void required(const std::string& key, const T& value, C = {}) {
    out[key] = value;
  }
  void invalid(const std::string&, const std::string&) {}
};

std::string training_json(SpmTrainConfig config) {
  nlohmann::json j;
  JsonFieldWriter writer{j};
  config.visit(writer);
  return j.dump();
}

void check_special_ids(const Tokenizer& tokenizer, const std::string& model_path) {
  const SpecialIds ids = tokenizer.special_ids();
  if (ids.pad != 0 || ids.unk != 1 || ids.cls != 2 || ids.sep != 3 || ids.mask != 4)
    fail(model_path + ": trained model does not have [PAD] [UNK] [CLS] [SEP] [MASK] at ids 0-4");
}

}  // namespace

std::unique_ptr<Tokenizer> train_sentencepiece(const SpmTrainConfig& config) {
  for (const auto& file : config.input) {
    if (!path_exists(file)) fail(file + ": training input not found");
  }
  fs::create_directories(config.output_dir);
  const std::string model_prefix = (fs::path(config.output_dir) / "spm").string();

  std::vector<std::string> keys, values;
  for (const auto& [key, value] : trainer_flags(config, model_prefix)) {
    keys.push_back(key);
    values.push_back(value);
  }
  std::vector<const char*> key_ptrs, value_ptrs;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    key_ptrs.push_back(keys[i].c_str());
    value_ptrs.push_back(values[i].c_str());
  }

  const SpmBridge& bridge = SpmBridge::get();
  spdlog::info("training a {} sentencepiece model ({} pieces) on {}", config.model_type, config.vocab_size,
               join(config.input, ", "));
  const auto start = std::chrono::steady_clock::now();
  bridge.set_random_seed(static_cast<unsigned>(config.seed));
  if (bridge.train(key_ptrs.data(), value_ptrs.data(), static_cast<int>(keys.size())) != 0)
    fail("sentencepiece training failed: " + std::string(bridge.last_error()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  auto tokenizer = std::make_unique<SentencePieceTokenizer>(model_prefix + ".model", training_json(config));
  check_special_ids(*tokenizer, model_prefix + ".model");
  tokenizer->save(config.output_dir);
  spdlog::info("trained in {:.1f} s: vocab_size {} written to {}", seconds, tokenizer->vocab_size(),
               config.output_dir);
  return tokenizer;
}

}  // namespace bf::tok
