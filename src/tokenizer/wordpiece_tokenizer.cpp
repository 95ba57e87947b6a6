#include "tokenizer/wordpiece_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
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

template <class OnText, class OnSpecial>
void WordPieceTokenizer::split_specials(std::string_view text, OnText&& on_text, OnSpecial&& on_special) const {
  std::size_t done = 0;
  for (std::size_t at = text.find('['); at != std::string_view::npos; at = text.find('[', at + 1)) {
    for (std::string_view special : kSpecialTokens) {
      const std::int32_t id = vocab_.id(special);
      if (id < 0 || text.compare(at, special.size(), special) != 0) continue;
      on_text(text.substr(done, at - done), done);
      on_special(id, at, special.size());
      done = at + special.size();
      at = done - 1;
      break;
    }
  }
  on_text(text.substr(done), done);
}

void WordPieceTokenizer::encode_keeping_specials(std::string_view text, Encoding& out) const {
  split_specials(
      text, [&](std::string_view part, std::size_t) { encode_text(part, out); },
      [&](std::int32_t id, std::size_t, std::size_t) {
        out.ids.push_back(id);
        out.word_starts.push_back(1);
      });
}

void WordPieceTokenizer::encode_text_with_offsets(std::string_view text, std::size_t offset,
                                                  std::vector<PieceSpan>& out) const {
  WordList words;
  std::vector<SourceSpan> spans;  // one per byte of words.bytes()
  basic_.tokenize(text, words, spans);
  Encoding pieces;
  for (std::size_t w = 0; w < words.size(); ++w) {
    const std::string_view word = words[w];
    const auto word_at = static_cast<std::size_t>(word.data() - words[0].data());
    pieces.ids.clear();
    pieces.word_starts.clear();
    wordpiece_word(vocab_, word, options_.max_input_chars_per_word, special_ids_.unk, pieces);
    // The pieces spell the word (continuations without "##"), unless the
    // word became [UNK], which spans all of it.
    std::vector<std::size_t> ends;
    std::size_t at = 0;
    for (std::size_t i = 0; i < pieces.ids.size() && pieces.ids[i] >= 0; ++i) {
      std::string_view spelled = vocab_.token(pieces.ids[i]);
      if (i > 0) spelled.remove_prefix(std::min<std::size_t>(2, spelled.size()));
      if (word.compare(at, spelled.size(), spelled) != 0) break;
      at += spelled.size();
      ends.push_back(at);
    }
    const bool whole_word = at != word.size() || ends.size() != pieces.ids.size();
    for (std::size_t i = 0; i < pieces.ids.size(); ++i) {
      const std::size_t begin = whole_word || i == 0 ? 0 : ends[i - 1];
      const std::size_t end = whole_word ? word.size() : ends[i];
      PieceSpan span;
      span.id = pieces.ids[i];
      if (span.id >= 0) span.piece = vocab_.token(span.id);
      span.start = spans[word_at + begin].start;
      span.end = spans[word_at + begin].end;
      for (std::size_t b = word_at + begin; b < word_at + end; ++b) {
        span.start = std::min(span.start, spans[b].start);
        span.end = std::max(span.end, spans[b].end);
      }
      span.start += offset;
      span.end += offset;
      // A character normalized into several pieces (a Hangul syllable into
      // its jamo) belongs to the first; the others start where it ends.
      if (!out.empty()) span.start = std::max(span.start, out.back().end);
      span.end = std::max(span.end, span.start);
      out.push_back(std::move(span));
    }
  }
}

std::vector<PieceSpan> WordPieceTokenizer::encode_with_offsets(std::string_view text) const {
  std::vector<PieceSpan> out;
  if (!options_.never_split_special) {
    encode_text_with_offsets(text, 0, out);
    return out;
  }
  split_specials(
      text, [&](std::string_view part, std::size_t at) { encode_text_with_offsets(part, at, out); },
      [&](std::int32_t id, std::size_t at, std::size_t length) {
        out.push_back(PieceSpan{id, vocab_.token(id), at, at + length});
      });
  return out;
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
