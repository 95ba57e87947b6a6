// Every row of the WordPiece conformance vectors, English and Chinese: 100%.
#include <catch2/catch.hpp>

#include "conformance.h"
#include "tokenizer/basic_tokenizer.h"
#include "tokenizer/wordpiece_tokenizer.h"

using namespace bf::tok;
using Strings = std::vector<std::string>;
using Ids = std::vector<std::int32_t>;

namespace {

WordPieceTokenizer make_tokenizer(const std::string& vocab, int max_chars) {
  WordPieceOptions options;
  options.max_input_chars_per_word = max_chars;
  return WordPieceTokenizer(WordPieceVocab::from_file(vocab), options);
}

// Compares one field on every row and reports the first few differences.
template <class Actual>
void check_rows(const std::vector<nlohmann::json>& rows, const char* field, const char* fallback, Actual actual) {
  int failures = 0;
  for (const auto& row : rows) {
    const auto& expected = row.contains(field) ? row.at(field) : row.at(fallback);
    const nlohmann::json got = actual(row.at("text").get<std::string>());
    if (got != expected) {
      if (++failures <= 5)
        UNSCOPED_INFO("row " << row.at("id") << " " << field << "\n  text:     " << row.at("text").dump()
                             << "\n  expected: " << expected.dump() << "\n  got:      " << got.dump());
    }
  }
  INFO(field << ": " << failures << " of " << rows.size() << " rows differ");
  CHECK(failures == 0);
}

}  // namespace

TEST_CASE("bert-base-uncased: every conformance row", "[tokenizer][conformance]") {
  const auto rows = bf::tok::test::read_jsonl(bf::tok::test::conformance_file("wordpiece_bert_base_uncased.jsonl"));
  REQUIRE(rows.size() == 942);
  BasicTokenizerOptions cased;
  cased.lower_case = false;
  check_rows(rows, "basic_uncased", "basic_uncased", [](const std::string& t) { return BasicTokenizer().tokenize(t); });
  check_rows(rows, "basic_cased", "basic_cased", [&](const std::string& t) { return BasicTokenizer(cased).tokenize(t); });

  SECTION("Google's limit of 200 characters per word") {
    const auto google = make_tokenizer(bf::tok::test::uncased_vocab(), 200);
    check_rows(rows, "wordpiece", "wordpiece", [&](const std::string& t) { return google.encode_pieces(t); });
    check_rows(rows, "ids", "ids", [&](const std::string& t) { return google.encode(t).ids; });
  }
  SECTION("the default limit of 100 characters per word, as Hugging Face") {
    REQUIRE(WordPieceOptions().max_input_chars_per_word == 100);
    const auto hf = make_tokenizer(bf::tok::test::uncased_vocab(), 100);
    check_rows(rows, "wordpiece_max100", "wordpiece", [&](const std::string& t) { return hf.encode_pieces(t); });
    check_rows(rows, "ids_max100", "ids", [&](const std::string& t) { return hf.encode(t).ids; });
  }
}

TEST_CASE("bert-base-chinese: every conformance row", "[tokenizer][conformance]") {
  const auto rows = bf::tok::test::read_jsonl(bf::tok::test::conformance_file("wordpiece_bert_base_chinese.jsonl"));
  REQUIRE(rows.size() == 210);
  for (int max_chars : {200, 100}) {
    const auto tokenizer = make_tokenizer(bf::tok::test::chinese_vocab(), max_chars);
    check_rows(rows, "wordpiece", "wordpiece", [&](const std::string& t) { return tokenizer.encode_pieces(t); });
    check_rows(rows, "ids", "ids", [&](const std::string& t) { return tokenizer.encode(t).ids; });
  }
}

TEST_CASE("classifier features: [CLS] a [SEP] b [SEP] with longest-first truncation", "[tokenizer][conformance]") {
  const auto rows = bf::tok::test::read_jsonl(bf::tok::test::conformance_file("features_bert_base_uncased.jsonl"));
  REQUIRE(rows.size() == 150);
  // run_classifier.py uses FullTokenizer, so Google's 200-character limit.
  const auto tokenizer = make_tokenizer(bf::tok::test::uncased_vocab(), 200);
  int failures = 0;
  for (const auto& row : rows) {
    const std::string a = row.at("text_a");
    std::optional<std::string> b;
    if (row.at("text_b").is_string()) b = row.at("text_b").get<std::string>();
    const PairEncoding got = tokenizer.encode_pair(a, b ? std::optional<std::string_view>(*b) : std::nullopt,
                                                   row.at("max_seq_length").get<int>(), true);
    Strings tokens;
    for (std::size_t i = 0; i < got.input_ids.size() && got.attention_mask[i]; ++i)
      tokens.push_back(tokenizer.id_to_token(got.input_ids[i]));
    const bool same = got.input_ids == row.at("input_ids").get<Ids>() &&
                      got.token_type_ids == row.at("segment_ids").get<Ids>() &&
                      got.attention_mask == row.at("input_mask").get<Ids>() && tokens == row.at("tokens").get<Strings>();
    if (!same && ++failures <= 5)
      UNSCOPED_INFO("row " << row.at("id") << ": expected " << row.at("tokens").dump() << " got "
                           << nlohmann::json(tokens).dump());
  }
  CHECK(failures == 0);
}
