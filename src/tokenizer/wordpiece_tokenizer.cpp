#include "tokenizer/wordpiece_tokenizer.h"

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>

#include "tokenizer/tokenizer_manifest.h"
#include "tokenizer/wordpiece.h"
#include "util/error.h"
#include "util/fs.h"

namespace bf::tok {
namespace {

constexpr const char* kVocabFile = "vocab.txt";
constexpr std::array<std::string_view, 5> kSpecialTokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

BasicTokenizerOptions basic_options(const WordPieceOptions& options) {
  BasicTokenizerOptions basic;
  basic.lower_case = options.do_lower_case;
  basic.strip_accents = options.strip_accents;
  basic.tokenize_chinese_chars = options.tokenize_chinese_chars;
  return basic;
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(WordPieceVocab vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)), options_(options), basic_(basic_options(options)) {
  if (options_.max_input_chars_per_word < 1) fail("wordpiece: max_input_chars_per_word must be >= 1");
  // A vocabulary without one of these (the unit-test ones) reports -1 for it.
  special_ids_.pad = vocab_.id("[PAD]");
  special_ids_.unk = vocab_.id("[UNK]");
  special_ids_.cls = vocab_.id("[CLS]");
  special_ids_.sep = vocab_.id("[SEP]");
  special_ids_.mask = vocab_.id("[MASK]");
  content_hash_ = tokenizer_content_hash(type(), options_json(), vocab_.text());
}

std::string WordPieceTokenizer::options_json() const {
  nlohmann::json j;
  j["do_lower_case"] = options_.do_lower_case;
  j["strip_accents"] = options_.strip_accents ? nlohmann::json(*options_.strip_accents) : nlohmann::json(nullptr);
  j["tokenize_chinese_chars"] = options_.tokenize_chinese_chars;
  j["max_input_chars_per_word"] = options_.max_input_chars_per_word;
  j["never_split_special"] = options_.never_split_special;
  return j.dump();
}

WordPieceOptions WordPieceTokenizer::options_from_json(const std::string& json, const std::string& where) {
  WordPieceOptions options;
  try {
    const auto j = nlohmann::json::parse(json);
    options.do_lower_case = j.value("do_lower_case", options.do_lower_case);
    if (j.contains("strip_accents") && !j["strip_accents"].is_null())
      options.strip_accents = j["strip_accents"].get<bool>();
    options.tokenize_chinese_chars = j.value("tokenize_chinese_chars", options.tokenize_chinese_chars);
    options.max_input_chars_per_word = j.value("max_input_chars_per_word", options.max_input_chars_per_word);
    options.never_split_special = j.value("never_split_special", options.never_split_special);
  } catch (const nlohmann::json::exception& e) {
    fail(where + ": invalid wordpiece options: " + e.what());
  }
  return options;
}

void WordPieceTokenizer::encode_text(std::string_view text, Encoding& out) const {
  thread_local WordList words;
  words.clear();
  basic_.tokenize(text, words);
  for (std::size_t i = 0; i < words.size(); ++i)
    wordpiece_word(vocab_, words[i], options_.max_input_chars_per_word, special_ids_.unk, out);
}

void WordPieceTokenizer::encode_keeping_specials(std::string_view text, Encoding& out) const {
  std::size_t done = 0;
  for (std::size_t at = text.find('['); at != std::string_view::npos; at = text.find('[', at + 1)) {
    for (std::string_view special : kSpecialTokens) {
      const std::int32_t id = vocab_.id(special);
      if (id < 0 || text.compare(at, special.size(), special) != 0) continue;
      encode_text(text.substr(done, at - done), out);
      out.ids.push_back(id);
      out.word_starts.push_back(1);
      done = at + special.size();
      at = done - 1;
      break;
    }
  }
  encode_text(text.substr(done), out);
}

Encoding WordPieceTokenizer::encode(std::string_view text) const {
  Encoding out;
  out.ids.reserve(text.size() / 4 + 4);
  out.word_starts.reserve(text.size() / 4 + 4);
  if (options_.never_split_special) {
    encode_keeping_specials(text, out);
  } else {
    encode_text(text, out);
  }
  return out;
}

std::vector<std::string> WordPieceTokenizer::encode_pieces(std::string_view text) const {
  const Encoding encoding = encode(text);
  std::vector<std::string> pieces;
  pieces.reserve(encoding.ids.size());
  for (std::int32_t id : encoding.ids) pieces.push_back(vocab_.token(id));
  return pieces;
}

std::string WordPieceTokenizer::id_to_token(std::int32_t id) const {
  if (id < 0 || id >= vocab_.size())
    fail("token id " + std::to_string(id) + " is out of range for a vocabulary of " + std::to_string(vocab_.size()));
  return vocab_.token(id);
}

std::string WordPieceTokenizer::decode(const std::vector<std::int32_t>& ids) const {
  // Hugging Face's convert_tokens_to_string: pieces joined by spaces, "##"
  // continuations glued to the piece before.
  std::string text;
  for (std::int32_t id : ids) {
    const std::string token = id_to_token(id);
    if (token.rfind("##", 0) == 0) {
      text += token.substr(2);
    } else {
      if (!text.empty()) text += ' ';
      text += token;
    }
  }
  return text;
}

void WordPieceTokenizer::save(const std::string& dir) const {
  std::filesystem::create_directories(dir);
  write_file_atomic((std::filesystem::path(dir) / kVocabFile).string(), vocab_.text());
  TokenizerManifest manifest;
  manifest.type = type();
  manifest.options_json = options_json();
  manifest.files["vocab"] = kVocabFile;
  manifest.vocab_size = vocab_size();
  manifest.special_ids = special_ids_;
  manifest.content_hash = content_hash_;
  write_manifest(dir, manifest);
}

}  // namespace bf::tok
