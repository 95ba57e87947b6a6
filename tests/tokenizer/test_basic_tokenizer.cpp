// Google's and HF's own unit cases, from unit_cases.json.
#include <catch2/catch.hpp>

#include "conformance.h"
#include "tokenizer/basic_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece.h"
#include "tokenizer/wordpiece_tokenizer.h"

using namespace bf::tok;
using Strings = std::vector<std::string>;

namespace {

char32_t only_char(const std::string& s) {
  char32_t cp = 0;
  REQUIRE(unicode::decode_utf8(s.data(), s.data() + s.size(), &cp) == static_cast<int>(s.size()));
  return cp;
}

WordPieceTokenizer full_tokenizer(const nlohmann::json& c) {
  WordPieceOptions options;
  options.do_lower_case = c.value("do_lower_case", true);
  return WordPieceTokenizer(WordPieceVocab::from_tokens(c.at("vocab").get<Strings>()), options);
}

Strings wordpiece_only(const WordPieceVocab& vocab, const std::string& text) {
  // WordpieceTokenizer alone splits on whitespace only.
  Encoding out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) wordpiece_word(vocab, std::string_view(text).substr(start, end - start), 200, vocab.id("[UNK]"), out);
    start = end + 1;
  }
  Strings pieces;
  for (auto id : out.ids) pieces.push_back(vocab.token(id));
  return pieces;
}

}  // namespace

TEST_CASE("unit cases of Google's and HF's tokenizer tests", "[tokenizer][conformance]") {
  const auto doc = bf::tok::test::read_json(bf::tok::test::conformance_file("unit_cases.json"));
  int checked = 0;
  for (const auto& c : doc.at("cases")) {
    const std::string name = c.at("name");
    const std::string component = c.at("component");
    INFO("case " << name);
    if (component == "BasicTokenizer") {
      BasicTokenizerOptions options;
      options.lower_case = c.at("do_lower_case");
      CHECK(BasicTokenizer(options).tokenize(c.at("input").get<std::string>()) == c.at("expected_tokens").get<Strings>());
    } else if (component == "FullTokenizer") {
      const auto tokenizer = full_tokenizer(c);
      if (c.contains("inputs")) {
        const auto inputs = c.at("inputs").get<Strings>();
        const auto expected = c.at("expected_tokens_each").get<std::vector<Strings>>();
        for (std::size_t i = 0; i < inputs.size(); ++i) CHECK(tokenizer.encode_pieces(inputs[i]) == expected[i]);
      } else {
        const std::string input = c.at("input");
        CHECK(tokenizer.encode_pieces(input) == c.at("expected_tokens").get<Strings>());
        CHECK(tokenizer.encode(input).ids == c.at("expected_ids").get<std::vector<std::int32_t>>());
      }
    } else if (component == "WordpieceTokenizer") {
      const auto vocab = WordPieceVocab::from_tokens(c.at("vocab").get<Strings>());
      CHECK(wordpiece_only(vocab, c.at("input")) == c.at("expected_tokens").get<Strings>());
    } else if (component == "vocab") {
      const auto tokenizer = full_tokenizer(c);
      std::vector<std::int32_t> ids;
      for (const auto& token : c.at("input_tokens").get<Strings>()) ids.push_back(tokenizer.token_to_id(token));
      CHECK(ids == c.at("expected_ids").get<std::vector<std::int32_t>>());
    } else {
      FAIL("unknown component " << component);
    }
    ++checked;
  }
  CHECK(checked == 14);
}

TEST_CASE("character classes match Google's _is_whitespace/_is_control/_is_punctuation", "[tokenizer][conformance]") {
  const auto classes = bf::tok::test::read_json(bf::tok::test::conformance_file("unit_cases.json")).at("char_classes");
  for (const auto& s : classes.at("is_whitespace_true").get<Strings>()) CHECK(unicode::is_whitespace(only_char(s)));
  for (const auto& s : classes.at("is_whitespace_false").get<Strings>()) CHECK_FALSE(unicode::is_whitespace(only_char(s)));
  for (const auto& s : classes.at("is_control_true").get<Strings>()) CHECK(unicode::is_control(only_char(s)));
  for (const auto& s : classes.at("is_control_false").get<Strings>()) CHECK_FALSE(unicode::is_control(only_char(s)));
  for (const auto& s : classes.at("is_punctuation_true").get<Strings>()) CHECK(unicode::is_punctuation(only_char(s)));
  for (const auto& s : classes.at("is_punctuation_false").get<Strings>())
    CHECK_FALSE(unicode::is_punctuation(only_char(s)));
}

TEST_CASE("basic tokenizer: Python str.lower() details", "[tokenizer]") {
  BasicTokenizerOptions lower_only;
  lower_only.lower_case = true;
  lower_only.strip_accents = false;
  // Final sigma: ς at the end of a word, σ inside it.
  CHECK(BasicTokenizer(lower_only).tokenize("ΟΔΟΣ ΣΟΦΟΣ") == Strings{"οδος", "σοφος"});
  CHECK(BasicTokenizer(lower_only).tokenize("ΟΔΟΣ") == Strings{"οδος"});
  // U+0130 lower-cases to "i" + U+0307, and accent stripping then drops U+0307.
  CHECK(BasicTokenizer(lower_only).tokenize("\u0130") == Strings{"i\u0307"});
  CHECK(BasicTokenizer().tokenize("\u0130STANBUL") == Strings{"istanbul"});
  // U+2028 survives _clean_text but str.split() splits on it.
  CHECK(BasicTokenizer().tokenize("a\u2028b") == Strings{"a", "b"});
}

TEST_CASE("basic tokenizer drops bytes that are not UTF-8, as decode('utf-8', 'ignore')", "[tokenizer]") {
  BasicTokenizer basic;
  CHECK(basic.tokenize("ab\xff" "cd") == Strings{"abcd"});
  CHECK(basic.tokenize("caf\xc3") == Strings{"caf"});               // truncated sequence at the end
  CHECK(basic.tokenize("\xe4\xb8" "a\xe4\xb8\xad") == Strings{"a", "\xe4\xb8\xad"});  // truncated, then 中
  CHECK(basic.tokenize("\xed\xa0\x80x") == Strings{"x"});           // an encoded surrogate
  CHECK(basic.tokenize("\xc0\xaf") == Strings{});                   // overlong "/"
  CHECK(basic.tokenize(std::string("a\0b", 3)) == Strings{"ab"});  // NUL is removed
}
