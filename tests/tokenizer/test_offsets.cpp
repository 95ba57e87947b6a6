// encode_with_offsets: the ids of encode, each piece with the span of the
// original text it came from (WordPiece and SentencePiece), and code-point
// offsets for the HTTP API.
#include <catch2/catch.hpp>

#include "conformance.h"
#include "tokenizer/basic_tokenizer.h"
#include "tokenizer/spm_trainer.h"
#include "tokenizer/wordpiece_tokenizer.h"
#include "util/fs.h"

using namespace bf::tok;
using bf::test::temp_dir;

namespace {

const std::string kBoundary = "\xE2\x96\x81";  // sentencepiece's "▁"

const Tokenizer& uncased() {
  static const auto tokenizer = load_wordpiece_vocab(bf::tok::test::uncased_vocab());
  return *tokenizer;
}

const Tokenizer& chinese() {
  static const auto tokenizer = load_wordpiece_vocab(bf::tok::test::chinese_vocab());
  return *tokenizer;
}

std::vector<std::string> sst2_sentences(std::size_t n) {
  auto lines = bf::tok::test::read_lines(bf::test::shared_path("data/sst2/train.tsv"), n + 1);
  lines.erase(lines.begin());  // the header
  for (auto& line : lines) line = line.substr(0, line.find('\t'));
  return lines;
}

std::vector<std::int32_t> ids_of(const std::vector<PieceSpan>& spans) {
  std::vector<std::int32_t> ids;
  for (const auto& span : spans) ids.push_back(span.id);
  return ids;
}

// Spans lie in the text, in order, and never overlap.
bool spans_in_order(const std::string& text, const std::vector<PieceSpan>& spans) {
  std::size_t previous_end = 0;
  for (const auto& span : spans) {
    if (span.start < previous_end || span.end < span.start || span.end > text.size()) return false;
    previous_end = span.end;
  }
  return true;
}

// Python's lower() makes a final Σ "ς", and a Σ alone "σ".
std::string fold_sigma(std::string text) {
  for (std::size_t at; (at = text.find("ς")) != std::string::npos;) text.replace(at, 2, "σ");
  return text;
}

// WordPiece: the text under each piece, through the basic tokenizer, is the
// piece without "##" ([UNK]: one whole word). Pieces with an empty span at
// the end of one (a character normalized into several pieces) join it.
bool wordpiece_spans_spell_pieces(const std::string& text, const std::vector<PieceSpan>& spans) {
  const BasicTokenizer basic;
  for (std::size_t i = 0; i < spans.size();) {
    std::string spelled;
    std::size_t j = i;
    for (; j < spans.size() && (j == i || spans[j].start == spans[j].end); ++j)
      spelled += spans[j].piece.rfind("##", 0) == 0 ? spans[j].piece.substr(2) : spans[j].piece;
    const auto words = basic.tokenize(std::string_view(text).substr(spans[i].start, spans[i].end - spans[i].start));
    if (words.size() != 1) return false;
    if (spans[i].piece != "[UNK]" && fold_sigma(words[0]) != fold_sigma(spelled)) return false;
    i = j;
  }
  return true;
}

// "piece start end" per piece, which Catch prints when a check fails.
using Spans = std::vector<std::string>;

Spans pieces_and_spans(const Tokenizer& tokenizer, const std::string& text) {
  Spans out;
  for (const auto& span : tokenizer.encode_with_offsets(text))
    out.push_back(span.piece + " " + std::to_string(span.start) + " " + std::to_string(span.end));
  return out;
}

// Runs every check on every text and reports the first few that fail.
void check_wordpiece(const Tokenizer& tokenizer, const std::vector<std::string>& texts) {
  int failures = 0;
  for (const auto& text : texts) {
    const auto spans = tokenizer.encode_with_offsets(text);
    const bool same_ids = ids_of(spans) == tokenizer.encode(text).ids;
    const bool in_order = spans_in_order(text, spans);
    const bool spelled = in_order && wordpiece_spans_spell_pieces(text, spans);
    if ((!same_ids || !in_order || !spelled) && ++failures <= 5)
      UNSCOPED_INFO("text " << nlohmann::json(text).dump() << ": same ids " << same_ids << ", in order " << in_order
                            << ", spelled " << spelled << "\n  "
                            << nlohmann::json(pieces_and_spans(tokenizer, text)).dump());
  }
  INFO(failures << " of " << texts.size() << " texts fail");
  CHECK(failures == 0);
}

std::vector<std::string> conformance_texts(const std::string& file) {
  std::vector<std::string> texts;
  for (const auto& row : bf::tok::test::read_jsonl(bf::tok::test::conformance_file(file)))
    texts.push_back(row.at("text").get<std::string>());
  return texts;
}

}  // namespace

TEST_CASE("offsets: WordPiece ids are encode's on every conformance row and real text", "[tokenizer][offsets]") {
  check_wordpiece(uncased(), conformance_texts("wordpiece_bert_base_uncased.jsonl"));
  check_wordpiece(chinese(), conformance_texts("wordpiece_bert_base_chinese.jsonl"));
  check_wordpiece(uncased(), sst2_sentences(300));
  check_wordpiece(uncased(), bf::tok::test::read_lines(bf::tok::test::english_corpus(), 300));
  check_wordpiece(chinese(), bf::tok::test::read_lines(bf::tok::test::chinese_corpus(), 300));
}

TEST_CASE("offsets: WordPiece spans of words, punctuation, accents and CJK", "[tokenizer][offsets]") {
  const Tokenizer& t = uncased();
  CHECK(pieces_and_spans(t, "Hello, world!") ==
        Spans{"hello 0 5", ", 5 6", "world 7 12", "! 12 13"});
  // "é" and "ï" are two bytes each; decomposed, the mark joins its base.
  CHECK(pieces_and_spans(t, "Café naïve") == Spans{"cafe 0 5", "naive 6 12"});
  CHECK(pieces_and_spans(t, "Cafe\xCC\x81!") == Spans{"cafe 0 6", "! 6 7"});
  CHECK(pieces_and_spans(t, "  leading and trailing  ") ==
        Spans{"leading 2 9", "and 10 13", "trailing 14 22"});
  CHECK(pieces_and_spans(t, "").empty());
  CHECK(pieces_and_spans(t, " \t\n ").empty());
  // A continuation piece spans its own characters.
  CHECK(pieces_and_spans(t, "Unaffable") == Spans{"una 0 3", "##ffa 3 6", "##ble 6 9"});
  // Control characters inside a word are dropped but lie inside its span.
  CHECK(pieces_and_spans(t, "ab\x01" "c d\xE2\x80\x8B") == Spans{"abc 0 4", "d 5 6"});
  // İ lower-cases to i + U+0307; both keep its two bytes.
  CHECK(pieces_and_spans(t, "\xC4\xB0t") == Spans{"it 0 3"});

  // Accent stripping decomposes Hangul into jamo: a syllable belongs to its
  // first piece.
  CHECK(pieces_and_spans(t, "한국") ==
        Spans{"ᄒ 0 3", "##ᅡ 3 3", "##ᆫ 3 3", "##ᄀ 3 6", "##ᅮ 6 6", "##ᆨ 6 6"});
  CHECK(pieces_and_spans(chinese(), "北京大学") ==
        Spans{"北 0 3", "京 3 6", "大 6 9", "学 9 12"});
  const std::vector<std::string> odd = {"I \xE2\x9D\xA4\xEF\xB8\x8F \xF0\x9F\xA4\x97 emoji \xF0\x9F\x98\x80!",
                                        "tab\there\r\nnew line \x7F\x01 end",
                                        "Crème brûlée ÀÉÎÕÜ ǅungla ΟΔΟΣ",
                                        "not utf-8 \xFF\xFE here \xC3",
                                        "北京大学 and 東京 mixed 한국어 テスト",
                                        std::string("nul\0inside", 10)};
  check_wordpiece(uncased(), odd);
  check_wordpiece(chinese(), odd);
}

TEST_CASE("offsets: literal special tokens kept whole", "[tokenizer][offsets]") {
  WordPieceOptions options;
  options.never_split_special = true;
  const WordPieceTokenizer t(WordPieceVocab::from_file(bf::tok::test::uncased_vocab()), options);
  const std::string text = "[CLS] Hi there[MASK]!";
  CHECK(ids_of(t.encode_with_offsets(text)) == t.encode(text).ids);
  CHECK(pieces_and_spans(t, text) ==
        Spans{"[CLS] 0 5", "hi 6 8", "there 9 14", "[MASK] 14 20", "! 20 21"});
}

TEST_CASE("offsets: byte offsets to code points (Python str indices)", "[tokenizer][offsets]") {
  const std::string text = "Café 北京 \xF0\x9F\x98\x80 x";
  CHECK(codepoint_offset(text, 0) == 0);
  CHECK(codepoint_offset(text, 5) == 4);    // after "Café"
  CHECK(codepoint_offset(text, 6) == 5);
  CHECK(codepoint_offset(text, 12) == 7);   // after "北京"
  CHECK(codepoint_offset(text, 17) == 9);   // after the emoji (one code point)
  CHECK(codepoint_offset(text, text.size()) == 11);
  CHECK(codepoint_offset(text, 1000) == 11);

  const auto spans = uncased().encode_with_offsets(text);
  const auto chars = codepoint_spans(text, spans);
  REQUIRE(chars.size() == spans.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    CHECK(chars[i].start == codepoint_offset(text, spans[i].start));
    CHECK(chars[i].end == codepoint_offset(text, spans[i].end));
  }
  // Out of order spans are converted too.
  std::vector<PieceSpan> backwards(spans.rbegin(), spans.rend());
  const auto back_chars = codepoint_spans(text, backwards);
  CHECK(back_chars.front().end == chars.back().end);
  CHECK(back_chars.back().start == chars.front().start);
}

namespace {

SpmTrainConfig small_spm(const std::string& corpus, std::size_t lines, const std::string& dir, int vocab_size) {
  std::string text;
  for (const auto& line : bf::tok::test::read_lines(corpus, lines)) text += line + "\n";
  bf::write_file_atomic(dir + "/sample.txt", text);
  SpmTrainConfig config;
  config.input = {dir + "/sample.txt"};
  config.output_dir = dir + "/tok";
  config.vocab_size = vocab_size;
  config.input_sentence_size = 0;
  config.num_threads = 2;
  return config;
}

// SentencePiece: ids as encode, spans in order; a normal piece spells the
// text under it ("▁" for the space before a word, none before the first).
void check_sentencepiece(const Tokenizer& tokenizer, const std::vector<std::string>& texts, bool spelled) {
  int failures = 0;
  for (const auto& text : texts) {
    const auto spans = tokenizer.encode_with_offsets(text);
    const bool same_ids = ids_of(spans) == tokenizer.encode(text).ids;
    const bool in_order = spans_in_order(text, spans);
    bool spells = true;
    for (std::size_t i = 0; spelled && in_order && i < spans.size(); ++i) {
      std::string piece = spans[i].piece;
      for (std::size_t at; (at = piece.find(kBoundary)) != std::string::npos;) piece.replace(at, kBoundary.size(), " ");
      std::string under = text.substr(spans[i].start, spans[i].end - spans[i].start);
      if (i == 0 && piece[0] == ' ') under.insert(0, " ");
      // sentencepiece folds runs of spaces into the "▁" after them.
      for (std::size_t at; (at = under.find("  ")) != std::string::npos;) under.erase(at, 1);
      if (spans[i].id != tokenizer.special_ids().unk && piece != under) spells = false;
    }
    if ((!same_ids || !in_order || !spells) && ++failures <= 5)
      UNSCOPED_INFO("text " << nlohmann::json(text).dump() << ": same ids " << same_ids << ", in order " << in_order
                            << ", spelled " << spells << "\n  "
                            << nlohmann::json(pieces_and_spans(tokenizer, text)).dump());
  }
  INFO(failures << " of " << texts.size() << " texts fail");
  CHECK(failures == 0);
}

}  // namespace

TEST_CASE("offsets: SentencePiece spans from the model's own SentencePieceText", "[tokenizer][offsets][spm]") {
  const std::string dir = temp_dir("offsets_spm_en");
  const auto english = train_sentencepiece(small_spm(bf::tok::test::english_corpus(), 2000, dir, 1000));
  const std::string text = "The king answered them.";
  const auto spans = english->encode_with_offsets(text);
  REQUIRE(!spans.empty());
  CHECK(spans.front().start == 0);
  CHECK(spans.back().end == text.size());
  check_sentencepiece(*english, sst2_sentences(300), true);
  check_sentencepiece(*english, bf::tok::test::read_lines(bf::tok::test::english_corpus(), 300), true);
  check_sentencepiece(*english, {"", "   ", "Hello, world!", "  leading and trailing  ", "one  two"}, true);
  check_sentencepiece(*english, {"Café naïve 北京大学 \xF0\x9F\x98\x80 a\x01" "b"}, false);
}

TEST_CASE("offsets: SentencePiece on Chinese with byte fallback", "[tokenizer][offsets][spm]") {
  const std::string dir = temp_dir("offsets_spm_zh");
  SpmTrainConfig config = small_spm(bf::tok::test::chinese_corpus(), 300, dir, 5000);
  config.max_sentence_length = 16384;
  config.character_coverage = 1.0;
  config.normalization_rule_name = "identity";
  config.byte_fallback = true;
  config.hard_vocab_limit = false;
  const auto tokenizer = train_sentencepiece(config);
  auto lines = bf::tok::test::read_lines(bf::tok::test::chinese_corpus(), 100000);
  lines.erase(lines.begin(), lines.end() - 300);  // characters the model never saw: byte pieces
  check_sentencepiece(*tokenizer, lines, false);
  check_sentencepiece(*tokenizer, {"北京大学", "\xF0\x9F\x98\x80 emoji"}, false);
}
