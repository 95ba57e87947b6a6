// Token classification data: tag schemes, the CoNLL/JSONL/CLUENER reader,
// conlleval's entity scores, word windows and the prediction writer.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/shared_data.h"
#include "finetune/row_reader.h"
#include "finetune/tagging/entity_metrics.h"
#include "finetune/tagging/tag_scheme.h"
#include "finetune/tagging/tagged_reader.h"
#include "finetune/tagging/tagged_writer.h"
#include "finetune/tagging/word_windows.h"
#include "tokenizer/tokenizer.h"

using namespace bf;
using Catch::Matchers::Contains;
using Tags = std::vector<std::string>;

namespace {

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const auto path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

ft::tagging::TaggedData read(const std::string& path, ft::tagging::TaggedReadOptions options = {}) {
  return ft::tagging::read_tagged(path, options);
}

std::vector<Tags> all_tags(const ft::tagging::TaggedData& data) {
  std::vector<Tags> out;
  for (const auto& s : data.sentences) out.push_back(s.tags);
  return out;
}

}  // namespace

// ---- tag schemes ----------------------------------------------------------

TEST_CASE("tag schemes: names, and IOB1/BIOES/BMES to IOB2", "[tagging]") {
  CHECK(ft::tagging::parse_tag_scheme("bioes") == ft::tagging::TagScheme::Bioes);
  CHECK(ft::tagging::tag_scheme_name(ft::tagging::parse_tag_scheme("bmes")) == "bmes");
  CHECK_THROWS_WITH(ft::tagging::parse_tag_scheme("bio"), Contains("iob2, iob1, bioes, bmes"));

  // IOB2 stays as it is; an I- that starts an entity is read as conlleval reads it.
  CHECK(ft::tagging::to_iob2({"B-PER", "I-PER", "O", "B-creative-work"}, ft::tagging::TagScheme::Iob2) ==
        Tags{"B-PER", "I-PER", "O", "B-creative-work"});
  CHECK(ft::tagging::to_iob2({"O", "I-PER", "I-PER", "I-LOC"}, ft::tagging::TagScheme::Iob2) == Tags{"O", "B-PER", "I-PER", "B-LOC"});
  // IOB1: entities begin with I-; B- only parts two adjacent entities of one type.
  CHECK(ft::tagging::to_iob2({"I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"}, ft::tagging::TagScheme::Iob1) ==
        Tags{"B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG"});
  CHECK(ft::tagging::to_iob2({"B-PER", "E-PER", "S-LOC", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG", "E-ORG"},
                    ft::tagging::TagScheme::Bioes) ==
        Tags{"B-PER", "I-PER", "B-LOC", "B-LOC", "O", "B-ORG", "I-ORG", "I-ORG", "B-ORG"});
  CHECK(ft::tagging::to_iob2({"B-NAME", "M-NAME", "E-NAME", "S-ORG", "M-ORG"}, ft::tagging::TagScheme::Bmes) ==
        Tags{"B-NAME", "I-NAME", "I-NAME", "B-ORG", "B-ORG"});
  CHECK(ft::tagging::to_iob2({}, ft::tagging::TagScheme::Iob2).empty());
}

TEST_CASE("tag schemes: tag forms and strict sequence rules", "[tagging]") {
  CHECK_FALSE(ft::tagging::check_tag_forms({"O", "B-X", "I-X"}, ft::tagging::TagScheme::Iob2));
  for (const auto& bad : {"X", "B-", "b-PER", "E-PER", "BPER", "o"}) {
    const auto problem = ft::tagging::check_tag_forms({"O", bad}, ft::tagging::TagScheme::Iob2);
    REQUIRE(problem);
    CHECK(problem->index == 1);
    CHECK_THAT(problem->message, Contains("O, B-TYPE, I-TYPE"));
  }
  CHECK(ft::tagging::check_tag_forms({"M-PER"}, ft::tagging::TagScheme::Bioes));
  CHECK(ft::tagging::check_tag_forms({"I-PER"}, ft::tagging::TagScheme::Bmes));
  CHECK_FALSE(ft::tagging::check_tag_forms({"S-PER", "M-PER"}, ft::tagging::TagScheme::Bmes));
  CHECK_THROWS_WITH(ft::tagging::to_iob2({"O", "X"}, ft::tagging::TagScheme::Iob2), Contains("token 1"));

  const auto iob2 = [](Tags tags) { return ft::tagging::strict_violation(tags, ft::tagging::TagScheme::Iob2); };
  CHECK_FALSE(iob2({"B-PER", "I-PER", "O", "B-LOC", "B-LOC"}));
  auto p = iob2({"O", "I-PER"});
  REQUIRE(p);
  CHECK(p->index == 1);
  CHECK_THAT(p->message, Contains("'I-PER' continues an entity that never began (after 'O')"));
  p = iob2({"B-PER", "I-LOC"});
  REQUIRE(p);
  CHECK(p->index == 1);
  CHECK_THAT(iob2({"I-PER"})->message, Contains("at the start of the sentence"));

  const auto iob1 = [](Tags tags) { return ft::tagging::strict_violation(tags, ft::tagging::TagScheme::Iob1); };
  CHECK_FALSE(iob1({"I-PER", "B-PER", "O", "I-LOC", "I-ORG"}));
  REQUIRE(iob1({"O", "B-PER"}));
  CHECK(iob1({"O", "B-PER"})->index == 1);

  const auto bioes = [](Tags tags) { return ft::tagging::strict_violation(tags, ft::tagging::TagScheme::Bioes); };
  CHECK_FALSE(bioes({"B-PER", "I-PER", "E-PER", "S-LOC", "O"}));
  REQUIRE(bioes({"B-PER", "O"}));
  CHECK(bioes({"B-PER", "O"})->index == 0);
  CHECK_THAT(bioes({"B-PER", "O"})->message, Contains("not closed by E-PER"));
  CHECK_THAT(bioes({"S-PER", "B-PER"})->message, Contains("the sentence ends"));
  CHECK(bioes({"O", "E-PER"})->index == 1);
  CHECK(bioes({"B-PER", "E-LOC"})->index == 0);
  CHECK_FALSE(ft::tagging::strict_violation({"B-X", "M-X", "E-X", "S-Y"}, ft::tagging::TagScheme::Bmes));
  CHECK(ft::tagging::strict_violation({"B-X", "I-X"}, ft::tagging::TagScheme::Bmes));  // I- is no BMES tag
}

TEST_CASE("entities: conlleval's chunk rules on IOB2 and IOB1 tags", "[tagging]") {
  using E = ft::tagging::Entity;
  CHECK(ft::tagging::extract_entities({"B-PER", "I-PER", "O", "B-LOC"}) == std::vector<E>{{"PER", 0, 2}, {"LOC", 3, 4}});
  // An I- after O or after another type starts an entity; a type change ends one.
  CHECK(ft::tagging::extract_entities({"O", "I-PER", "I-PER", "I-LOC"}) == std::vector<E>{{"PER", 1, 3}, {"LOC", 3, 4}});
  CHECK(ft::tagging::extract_entities({"B-PER", "I-LOC", "I-LOC"}) == std::vector<E>{{"PER", 0, 1}, {"LOC", 1, 3}});
  CHECK(ft::tagging::extract_entities({"B-PER", "B-PER", "I-PER"}) == std::vector<E>{{"PER", 0, 1}, {"PER", 1, 3}});
  CHECK(ft::tagging::extract_entities({"I-PER", "I-PER", "B-PER"}) == std::vector<E>{{"PER", 0, 2}, {"PER", 2, 3}});
  CHECK(ft::tagging::extract_entities({"O", "O"}).empty());
  CHECK_THROWS_WITH(ft::tagging::extract_entities({"O", "S-PER"}), Contains("token 1"));
}

// ---- reader -----------------------------------------------------------------

TEST_CASE("CoNLL reader: tab and space columns, -DOCSTART-, blank lines, CRLF", "[tagging]") {
  const auto dir = test::temp_dir("tagging-conll");
  const auto path = write_file(dir, "a.conll",
                               "-DOCSTART- -X- -X- O\n"
                               "\n"
                               "EU NNP B-NP B-ORG\n"
                               "rejects   VBZ  B-VP   O\n"
                               "\n"
                               "\n"
                               "New\tB-LOC\r\n"
                               "York\t I-LOC \r\n"
                               "is\tO\t\n"
                               " \t\n"
                               "-DOCSTART-\tO\n"
                               "Peter\tB-PER");
  const auto data = read(path);
  CHECK(data.format == ft::tagging::TaggedFormat::Conll);
  REQUIRE(data.sentences.size() == 3);
  const auto& a = data.sentences[0];
  CHECK(a.line == 3);
  CHECK(a.tokens == Tags{"EU", "rejects"});
  CHECK(a.tags == Tags{"B-ORG", "O"});
  CHECK(a.lines == Tags{"EU NNP B-NP B-ORG", "rejects   VBZ  B-VP   O"});
  CHECK(a.preceding_lines == Tags{"-DOCSTART- -X- -X- O", ""});
  const auto& b = data.sentences[1];
  CHECK(b.line == 7);
  CHECK(b.tokens == Tags{"New", "York", "is"});
  CHECK(b.tags == Tags{"B-LOC", "I-LOC", "O"});
  CHECK(b.preceding_lines == Tags{"", ""});
  CHECK(data.sentences[2].preceding_lines == Tags{" \t", "-DOCSTART-\tO"});
  CHECK(data.sentences[2].line == 12);
  CHECK(data.trailing_lines.empty());
  CHECK(data.skipped == 0);

  CHECK(ft::tagging::split_columns("a  b\tc") == Tags{"a", "b", "c"});
  CHECK(ft::tagging::split_columns("  a   b ") == Tags{"a", "b"});
  CHECK(ft::tagging::split_columns("a\t \tO\t") == Tags{"a", "O"});
  CHECK(ft::tagging::parse_tagged_format("auto", "x.txt") == ft::tagging::TaggedFormat::Conll);
  CHECK(ft::tagging::parse_tagged_format("auto", "x.json") == ft::tagging::TaggedFormat::Jsonl);
  CHECK_THROWS_WITH(ft::tagging::parse_tagged_format("csv", "x"), Contains("auto, conll, jsonl"));
}

TEST_CASE("CoNLL reader: bad rows name FILE:LINE, skipped sentences are counted", "[tagging]") {
  const auto dir = test::temp_dir("tagging-bad");
  const auto path = write_file(dir, "a.bio",
                               "Good\tO\n"
                               "\n"
                               "Alone\tB-PER\n"
                               "untagged\n"
                               "\n"
                               "Bad\tB-\n"
                               "\n"
                               "Fine\tB-LOC\n");
  CHECK_THROWS_AS(read(path), ft::BadRow);
  CHECK_THROWS_WITH(read(path), Contains(path + ":4: one column"));

  ft::tagging::TaggedReadOptions skip;
  skip.skip_bad_rows = true;
  const auto data = read(path, skip);
  CHECK(data.skipped == 2);
  REQUIRE(data.skipped_examples.size() == 2);
  CHECK_THAT(data.skipped_examples[0], Contains(path + ":4:"));
  CHECK_THAT(data.skipped_examples[1], Contains(path + ":6: token 0: tag 'B-'"));
  REQUIRE(data.sentences.size() == 2);
  CHECK(data.sentences[1].tokens == Tags{"Fine"});
  // The separators of the skipped sentences stay, so the output keeps its blank lines.
  CHECK(data.sentences[1].preceding_lines == Tags{"", "", ""});

  // Predict input: a token alone is fine, and the sentence has no tags.
  ft::tagging::TaggedReadOptions predict;
  predict.labels_required = false;
  const auto p = read(write_file(dir, "p.conll", "Alone\nhere\n\nTagged\tO\n"), predict);
  REQUIRE(p.sentences.size() == 2);
  CHECK(p.sentences[0].tokens == Tags{"Alone", "here"});
  CHECK(p.sentences[0].tags.empty());
  CHECK(p.sentences[1].tags == Tags{"O"});

  CHECK_THROWS_WITH(read(dir + "/missing.conll"), Contains("missing.conll: cannot open"));
}

TEST_CASE("CoNLL reader: schemes convert on read, strict mode rejects what conlleval would repair", "[tagging]") {
  const auto dir = test::temp_dir("tagging-schemes");
  const auto loose = write_file(dir, "a.conll", "x\tO\ny\tI-PER\nz\tI-PER\n");
  CHECK(read(loose).sentences[0].tags == Tags{"O", "B-PER", "I-PER"});
  ft::tagging::TaggedReadOptions strict;
  strict.strict = true;
  CHECK_THROWS_WITH(read(loose, strict), Contains(loose + ":2: token 1: 'I-PER' continues an entity that never began"));

  ft::tagging::TaggedReadOptions bioes;
  bioes.scheme = ft::tagging::TagScheme::Bioes;
  const auto b = write_file(dir, "b.iob", "a S-LOC\nb B-PER\nc E-PER\n");
  CHECK(read(b, bioes).sentences[0].tags == Tags{"B-LOC", "B-PER", "I-PER"});
  CHECK_THROWS_WITH(read(b), Contains(b + ":1: token 0: tag 'S-LOC' is not of the form"));
  bioes.strict = true;
  CHECK_THROWS_WITH(read(write_file(dir, "c.iob", "a O\nb B-PER\nc O\n"), bioes), Contains(":2: token 1:"));
}

TEST_CASE("JSONL reader: tokens with tags or ner_tags ids, bad rows", "[tagging]") {
  const auto dir = test::temp_dir("tagging-jsonl");
  const auto path = write_file(dir, "a.jsonl",
                               R"({"tokens": ["John", "lives", "in", "Paris"], )"
                               R"("tags": ["B-PER", "O", "O", "B-LOC"], "id": 7})"
                               "\n\n"
                               R"({"tokens": ["Rome"], "ner_tags": [2]})"
                               "\n");
  ft::tagging::TaggedReadOptions options;
  CHECK_THROWS_WITH(read(path, options), Contains(path + ":3: \"ner_tags\" holds integer ids"));
  options.label_names = {"O", "B-PER", "B-LOC"};
  const auto data = read(path, options);
  CHECK(data.format == ft::tagging::TaggedFormat::Jsonl);
  REQUIRE(data.sentences.size() == 2);
  CHECK(data.sentences[0].tags == Tags{"B-PER", "O", "O", "B-LOC"});
  CHECK(data.sentences[0].object["id"] == 7);
  CHECK_FALSE(data.sentences[0].is_cluener());
  CHECK(data.sentences[1].line == 3);
  CHECK(data.sentences[1].tags == Tags{"B-LOC"});

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"tokens\": [], \"tags\": []}", "an empty sentence"},
      {"{\"tokens\": [\"a\", \"b\"], \"tags\": [\"O\"]}", "2 tokens but 1 tags"},
      {"{\"tokens\": [\"a\"]}", "no \"tags\""},
      {"{\"tokens\": [\"a\"], \"tags\": [\"PER\"]}", "token 0: tag 'PER' is not of the form"},
      {"{\"tokens\": [\"a\"], \"ner_tags\": [5]}", "not an id of the 3 labels"},
      {"{\"tokens\": \"a b\", \"tags\": [\"O\"]}", "\"tokens\" is not a list"},
      {"{\"words\": [\"a\"]}", "neither \"tokens\""},
      {"[1, 2]", "not a JSON object"},
      {"{\"tokens\": [\"a\"", "not valid JSON"},
  };
  for (const auto& [line, message] : bad) {
    const auto file = write_file(dir, "bad.jsonl", "{\"tokens\": [\"ok\"], \"tags\": [\"O\"]}\n" + line + "\n");
    CHECK_THROWS_WITH(read(file, options), Contains(file + ":2: ") && Contains(message));
  }
  ft::tagging::TaggedReadOptions predict;
  predict.labels_required = false;
  CHECK(read(write_file(dir, "p.jsonl", "{\"tokens\": [\"a\"]}\n"), predict).sentences[0].tags.empty());
}

TEST_CASE("JSONL reader: CLUENER text with character spans, Chinese and whitespace", "[tagging]") {
  const auto dir = test::temp_dir("tagging-cluener");
  const std::string chinese =
      R"({"text": "我在北京大学读书，家住上海。", "label": {"organization": {"北京大学": [[2, 5]]}, )"
      R"("address": {"上海": [[11, 12]]}}})";
  const auto path = write_file(dir, "a.json",
                               chinese + "\n" +
                                   R"({"text": "Hi 张三 ok", "label": {"name": {"张三": [[3, 4]]}, "other": {"i 张": [[1, 3]]}}})");
  ft::tagging::TaggedReadOptions options;
  CHECK_THROWS_WITH(read(path, options),
                    Contains(path + R"(:2: label.other."i 张" [1,3] overlaps label.name."张三" [3,4])"));
  write_file(dir, "a.json",
             chinese + "\n" + R"({"text": "Hi 张三 ok", "label": {"name": {"张三": [[3, 4]]}, "other": {"i ": [[1, 2]]}}})");
  const auto data = read(path, options);
  REQUIRE(data.sentences.size() == 2);
  const auto& zh = data.sentences[0];
  CHECK(zh.is_cluener());
  CHECK(zh.tokens.size() == 14);
  CHECK(zh.tokens[2] == "北");
  CHECK(zh.tags == Tags{"O", "O", "B-organization", "I-organization", "I-organization", "I-organization", "O", "O",
                        "O", "O", "O", "B-address", "I-address", "O"});
  CHECK(zh.char_spans[13] == std::pair<std::int64_t, std::int64_t>{13, 14});
  // Whitespace is no token: the spans say where each token sits in the text.
  const auto& mixed = data.sentences[1];
  CHECK(mixed.text == "Hi 张三 ok");
  CHECK(mixed.tokens == Tags{"H", "i", "张", "三", "o", "k"});
  CHECK(mixed.tags == Tags{"O", "B-other", "B-name", "I-name", "O", "O"});
  CHECK(mixed.char_spans ==
        std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 1}, {1, 2}, {3, 4}, {4, 5}, {6, 7}, {7, 8}});

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"text\": \"北京\", \"label\": {\"loc\": {\"上海\": [[0, 1]]}}}",
       "label.loc.\"上海\" [0,1]: the text there is \"北京\""},
      {"{\"text\": \"北京\", \"label\": {\"loc\": {\"北京\": [[0, 2]]}}}", "outside the text's 2 characters"},
      {"{\"text\": \"北京\", \"label\": {\"loc\": {\"北京\": [0, 1]}}}", "is not [start, end]"},
      {"{\"text\": \"a b\", \"label\": {\"x\": {\" \": [[1, 1]]}}}", "is only whitespace"},
      {"{\"text\": \" \", \"label\": {}}", "an empty sentence"},
      {"{\"text\": \"北京\"}", "no \"label\""},
  };
  for (const auto& [line, message] : bad) {
    const auto file = write_file(dir, "bad.jsonl", line + "\n");
    CHECK_THROWS_WITH(read(file), Contains(file + ":1: ") && Contains(message));
  }
  ft::tagging::TaggedReadOptions skip;
  skip.skip_bad_rows = true;
  const auto skipped = read(write_file(dir, "s.jsonl", bad[0].first + "\n{\"text\": \"好\", \"label\": {}}\n"), skip);
  CHECK(skipped.skipped == 1);
  REQUIRE(skipped.sentences.size() == 1);
  CHECK(skipped.sentences[0].tags == Tags{"O"});
}

// ---- entity metrics -----------------------------------------------------------

TEST_CASE("entity metrics: a worked example, micro-averaged, with the per-type table", "[tagging]") {
  const std::vector<Tags> gold = {{"B-PER", "I-PER", "O", "B-LOC"}, {"B-ORG", "O", "B-PER"}};
  const std::vector<Tags> pred = {{"B-PER", "I-PER", "O", "B-ORG"}, {"B-ORG", "O", "O"}};
  const auto s = ft::tagging::score_entities(gold, pred);
  CHECK(s.gold_entities == 4);
  CHECK(s.predicted_entities == 3);
  CHECK(s.correct_entities == 2);
  CHECK(s.precision == Approx(2.0 / 3));
  CHECK(s.recall == Approx(0.5));
  CHECK(s.f1 == Approx(4.0 / 7));
  CHECK(s.accuracy == Approx(5.0 / 7));
  REQUIRE(s.per_type.size() == 3);
  CHECK(s.per_type.at("PER").precision == Approx(1.0));
  CHECK(s.per_type.at("PER").recall == Approx(0.5));
  CHECK(s.per_type.at("PER").f1 == Approx(2.0 / 3));
  CHECK(s.per_type.at("LOC").predicted == 0);
  CHECK(s.per_type.at("LOC").precision == 0.0);
  CHECK(s.per_type.at("LOC").f1 == 0.0);
  CHECK(s.per_type.at("ORG").support == 1);
  CHECK(s.per_type.at("ORG").predicted == 2);
  CHECK(s.per_type.at("ORG").precision == Approx(0.5));

  const auto j = s.to_json();
  CHECK(j["f1"].get<double>() == Approx(4.0 / 7));
  CHECK(j["per_type"]["ORG"]["support"] == 1);
  CHECK(j["per_type"]["ORG"]["predicted"] == 2);
  CHECK(j["gold_entities"] == 4);
  const auto table = s.table();
  CHECK_THAT(table, Contains("processed 7 tokens with 4 phrases; found: 3 phrases; correct: 2."));
  CHECK_THAT(table, Contains("accuracy: 71.43%; precision: 66.67%; recall: 50.00%; FB1: 57.14"));
  CHECK_THAT(table, Contains("ORG      50.00%  100.00%    66.67        1          2"));
}

TEST_CASE("entity metrics: conlleval's rules for I- after O, type changes, boundaries, IOB1", "[tagging]") {
  // An I- after O begins the same entity a B- would: correct, though the tags differ.
  auto s = ft::tagging::score_entities({{"O", "B-PER", "I-PER", "O"}}, {{"O", "I-PER", "I-PER", "O"}});
  CHECK(s.correct_entities == 1);
  CHECK(s.f1 == Approx(1.0));
  CHECK(s.accuracy == Approx(0.75));
  // A type change mid-entity makes two entities, neither right.
  s = ft::tagging::score_entities({{"B-PER", "I-PER"}}, {{"B-PER", "I-LOC"}});
  CHECK(s.predicted_entities == 2);
  CHECK(s.correct_entities == 0);
  CHECK(s.per_type.at("LOC").predicted == 1);
  // Right type, wrong end; and right span, wrong type.
  s = ft::tagging::score_entities({{"B-PER", "I-PER", "O"}, {"B-LOC"}}, {{"B-PER", "O", "O"}, {"B-ORG"}});
  CHECK(s.correct_entities == 0);
  CHECK(s.f1 == 0.0);
  // A sentence boundary ends an entity: the same tags in one sentence are one entity.
  s = ft::tagging::score_entities({{"O", "B-PER"}, {"I-PER", "O"}}, {{"O", "B-PER"}, {"I-PER", "O"}});
  CHECK(s.gold_entities == 2);
  // IOB1 gold against IOB2 predictions: the entities are what count.
  s = ft::tagging::score_entities({{"I-PER", "I-PER", "B-PER", "O", "I-LOC"}}, {{"B-PER", "I-PER", "B-PER", "O", "B-LOC"}});
  CHECK(s.gold_entities == 3);
  CHECK(s.correct_entities == 3);
  CHECK(s.f1 == Approx(1.0));
}

TEST_CASE("entity metrics: nothing predicted, perfect prediction, errors", "[tagging]") {
  const std::vector<Tags> gold = {{"B-PER", "I-PER", "O"}, {"O", "B-LOC"}};
  auto s = ft::tagging::score_entities(gold, {{"O", "O", "O"}, {"O", "O"}});
  CHECK(s.predicted_entities == 0);
  CHECK(s.precision == 0.0);
  CHECK(s.recall == 0.0);
  CHECK(s.f1 == 0.0);
  CHECK(s.accuracy == Approx(2.0 / 5));
  CHECK(s.per_type.at("PER").precision == 0.0);
  s = ft::tagging::score_entities(gold, gold);
  CHECK(s.precision == 1.0);
  CHECK(s.recall == 1.0);
  CHECK(s.f1 == 1.0);
  CHECK(s.accuracy == 1.0);
  s = ft::tagging::score_entities({{"O"}}, {{"O"}});
  CHECK(s.f1 == 0.0);  // no entities anywhere: conlleval prints 0
  CHECK(s.per_type.empty());
  CHECK(ft::tagging::score_entities({}, {}).accuracy == 0.0);

  CHECK_THROWS_WITH(ft::tagging::score_entities({{"O", "O"}}, {{"O"}}), Contains("sentence 0: 2 gold tags but 1 predicted"));
  CHECK_THROWS_WITH(ft::tagging::score_entities({{"O"}, {"O"}}, {{"O"}, {"E-X"}}),
                    Contains("sentence 1 (predicted): token 0: tag 'E-X'"));
  CHECK_THROWS_WITH(ft::tagging::score_entities({{"O"}}, {}), Contains("1 gold sentences but 0 predicted"));
}

TEST_CASE("entity metrics: WNUT-17 test scored against itself", "[tagging]") {
  const auto path = test::shared_path("data/wnut17/test.conll");
  const auto data = read(path);
  CHECK(data.skipped == 0);
  CHECK(data.sentences.size() == 1287);
  const auto tags = all_tags(data);
  const auto s = ft::tagging::score_entities(tags, tags);
  CHECK(s.f1 == 1.0);
  CHECK(s.precision == 1.0);
  CHECK(s.recall == 1.0);
  CHECK(s.accuracy == 1.0);
  CHECK(s.tokens == 23394);

  // The entity count, independently: B- tags of the file's own sentences in IOB2.
  std::ifstream in(path);
  std::string line;
  Tags sentence;
  std::int64_t entities = 0;
  std::map<std::string, std::int64_t> per_type;
  const auto count = [&] {
    for (const auto& tag : ft::tagging::to_iob2(sentence, ft::tagging::TagScheme::Iob2))
      if (tag.rfind("B-", 0) == 0) ++entities, ++per_type[tag.substr(2)];
    sentence.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      count();
      continue;
    }
    sentence.push_back(line.substr(line.rfind('\t') + 1));
  }
  count();
  CHECK(entities == 1079);  // the count in data/wnut17/README.md
  CHECK(s.gold_entities == entities);
  CHECK(s.correct_entities == entities);
  REQUIRE(s.per_type.size() == per_type.size());
  for (const auto& [type, n] : per_type) CHECK(s.per_type.at(type).support == n);
  CHECK(s.per_type.at("person").support == 429);
  CHECK(s.per_type.at("creative-work").support == 142);
}

// ---- word windows ---------------------------------------------------------------

namespace {

std::unique_ptr<tok::Tokenizer> uncased() {
  return tok::load_wordpiece_vocab(test::shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"));
}

std::vector<std::vector<std::int32_t>> single_pieces(std::size_t words) {
  std::vector<std::vector<std::int32_t>> out;
  for (std::size_t i = 0; i < words; ++i) out.push_back({static_cast<std::int32_t>(1000 + i)});
  return out;
}

// Every word in some window, owned by exactly one window that holds it; all
// of each word's pieces in each window that holds it.
void check_cover(const std::vector<ft::tagging::WordWindow>& windows, const std::vector<std::vector<std::int32_t>>& pieces,
                 std::int64_t max_seq_length) {
  std::vector<int> owned(pieces.size(), 0);
  for (const auto& w : windows) {
    CHECK(static_cast<std::int64_t>(w.input_ids.size()) <= max_seq_length);
    CHECK(w.word_of_position.front() == -1);
    CHECK(w.word_of_position.back() == -1);
    std::size_t p = 1;
    for (auto word = w.first_word; word < w.end_word; ++word)
      for (auto id : pieces[static_cast<std::size_t>(word)]) {
        CHECK(w.word_of_position[p] == word);
        CHECK(w.input_ids[p++] == id);
      }
    CHECK(p + 1 == w.input_ids.size());
    for (auto word : w.owned_words) {
      CHECK(word >= w.first_word);
      CHECK(word < w.end_word);
      ++owned[static_cast<std::size_t>(word)];
    }
  }
  for (std::size_t i = 0; i < owned.size(); ++i) {
    INFO("word " << i);
    CHECK(owned[i] == 1);
  }
}

}  // namespace

TEST_CASE("word windows: one window, labels on first pieces or on all pieces", "[tagging]") {
  const auto tokenizer = uncased();
  const auto special = tokenizer->special_ids();
  const Tags words = {"Unaffable", "lives", "\xE2\x80\x8B", "here"};  // a zero-width space has no pieces
  const auto pieces = ft::tagging::word_pieces(words, *tokenizer, 126);
  REQUIRE(pieces[0].size() > 1);
  CHECK(pieces[2] == std::vector<std::int32_t>{special.unk});

  const std::map<std::string, std::int64_t> ids = {{"O", 0}, {"B-PER", 1}, {"B-LOC", 2}};
  const auto id_of = [&](const std::string& tag) { return ids.count(tag) ? ids.at(tag) : -1; };
  const auto labels = ft::tagging::word_label_ids({"B-PER", "O", "O", "B-LOC"}, id_of);
  CHECK(labels == std::vector<std::int64_t>{1, 0, 0, 2});
  CHECK_THROWS_WITH(ft::tagging::word_label_ids({"O", "I-PER"}, id_of),
                    Contains("token 1: tag 'I-PER' is not one of the labels"));

  ft::tagging::WindowOptions options;
  const auto windows = ft::tagging::make_windows(words, *tokenizer, labels, options);
  REQUIRE(windows.size() == 1);
  const auto& w = windows[0];
  CHECK(w.input_ids.front() == special.cls);
  CHECK(w.input_ids.back() == special.sep);
  CHECK(w.owned_words == std::vector<std::int32_t>{0, 1, 2, 3});
  std::vector<std::int64_t> expected = {ft::tagging::kIgnoredLabel, 1};
  for (std::size_t i = 1; i < pieces[0].size(); ++i) expected.push_back(ft::tagging::kIgnoredLabel);
  expected.insert(expected.end(), {0, 0, 2, ft::tagging::kIgnoredLabel});
  CHECK(w.labels == expected);
  check_cover(windows, pieces, options.max_seq_length);

  options.label_all_pieces = true;
  const auto all = ft::tagging::make_windows(words, *tokenizer, {1, 0, 0, 2}, options);
  for (std::size_t p = 0; p < all[0].labels.size(); ++p) {
    const auto word = all[0].word_of_position[p];
    CHECK(all[0].labels[p] == (word < 0 ? ft::tagging::kIgnoredLabel : std::vector<std::int64_t>{1, 0, 0, 2}[word]));
  }
  CHECK(ft::tagging::make_windows(words, *tokenizer, {}, options)[0].labels.empty());
  CHECK(ft::tagging::make_windows(Tags{}, *tokenizer, {}, options).empty());
}

TEST_CASE("word windows: long sentences overlap by whole words, max-context owners", "[tagging]") {
  // 10 one-piece words, 6 pieces a window, windows sharing up to 3 pieces.
  ft::tagging::WindowOptions options;
  options.max_seq_length = 8;
  options.stride = 3;
  const auto pieces = single_pieces(10);
  std::vector<std::int64_t> labels(10);
  for (std::size_t i = 0; i < 10; ++i) labels[i] = static_cast<std::int64_t>(i);
  const auto windows = ft::tagging::make_windows(pieces, tok::SpecialIds{}, labels, options);
  REQUIRE(windows.size() == 3);
  CHECK(windows[0].first_word == 0);
  CHECK(windows[0].end_word == 6);
  CHECK(windows[1].first_word == 3);
  CHECK(windows[1].end_word == 9);
  CHECK(windows[2].first_word == 6);
  CHECK(windows[2].end_word == 10);
  // Word 4 has min(4 left, 1 right) = 1 in window 0 and min(1, 4) = 1 in window 1: the earlier wins.
  CHECK(windows[0].owned_words == std::vector<std::int32_t>{0, 1, 2, 3, 4});
  CHECK(windows[1].owned_words == std::vector<std::int32_t>{5, 6, 7});
  CHECK(windows[2].owned_words == std::vector<std::int32_t>{8, 9});
  check_cover(windows, pieces, options.max_seq_length);

  // Predictions come back from each word's owner: encode (window, word) in the id.
  std::vector<std::vector<std::int64_t>> predicted;
  for (std::size_t k = 0; k < windows.size(); ++k) {
    std::vector<std::int64_t> row;
    for (auto word : windows[k].word_of_position) row.push_back(static_cast<std::int64_t>(100 * k) + word);
    row.push_back(-7);  // padding past the window is ignored
    predicted.push_back(row);
  }
  CHECK(ft::tagging::assemble_word_predictions(windows, predicted, 10) ==
        std::vector<std::int64_t>{0, 1, 2, 3, 4, 105, 106, 107, 208, 209});
  predicted[1].resize(2);
  CHECK_THROWS_WITH(ft::tagging::assemble_word_predictions(windows, predicted, 10), Contains("window 1 has 8 positions"));

  // No overlap at all with stride 0; the default is half the window.
  options.stride = 0;
  const auto disjoint = ft::tagging::make_windows(pieces, tok::SpecialIds{}, labels, options);
  REQUIRE(disjoint.size() == 2);
  CHECK(disjoint[1].first_word == 6);
  options.stride = -1;
  check_cover(ft::tagging::make_windows(pieces, tok::SpecialIds{}, labels, options), pieces, options.max_seq_length);

  options.stride = 6;
  CHECK_THROWS_WITH(ft::tagging::make_windows(pieces, tok::SpecialIds{}, labels, options), Contains("stride 6"));
  options.stride = -1;
  options.max_seq_length = 2;
  CHECK_THROWS_WITH(ft::tagging::make_windows(pieces, tok::SpecialIds{}, labels, options), Contains("max_seq_length 2"));
}

TEST_CASE("word windows: real text longer than the window, and a word longer than a window", "[tagging]") {
  const auto tokenizer = uncased();
  Tags words;
  const std::string text =
      "the unbelievably talkative ornithologist counted seventeen flamingos near Lake Nakuru before "
      "sunrise while photographers waited impatiently behind the reeds";
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  words.insert(words.begin() + 5, "pneumonoultramicroscopicsilicovolcanoconiosis");
  ft::tagging::WindowOptions options;
  options.max_seq_length = 10;
  std::int64_t truncated = 0;
  const auto pieces = ft::tagging::word_pieces(words, *tokenizer, options.max_seq_length - 2, &truncated);
  CHECK(truncated == 1);
  CHECK(pieces[5].size() == 8);
  const auto windows = ft::tagging::make_windows(words, *tokenizer, std::vector<std::int64_t>(words.size(), 3), options);
  CHECK(windows.size() > 3);
  check_cover(windows, pieces, options.max_seq_length);
  for (std::size_t k = 1; k < windows.size(); ++k) {
    CHECK(windows[k].first_word > windows[k - 1].first_word);
    CHECK(windows[k].first_word <= windows[k - 1].end_word);
    CHECK(windows[k].end_word > windows[k - 1].end_word);
  }
  // The long word fills a window of its own, its first piece labelled.
  bool alone = false;
  for (const auto& w : windows)
    if (w.first_word == 5 && w.end_word == 6) alone = w.labels[1] == 3 && w.labels[2] == ft::tagging::kIgnoredLabel;
  CHECK(alone);
}

// ---- writer ---------------------------------------------------------------------

TEST_CASE("writer: CoNLL lines come back with the prediction as a last column", "[tagging]") {
  const auto dir = test::temp_dir("tagging-writer");
  const std::string input =
      "-DOCSTART- -X- -X- O\n\nEU B-ORG\nrejects O\n\n\nNew\tB-LOC\nYork\tI-LOC\n\n";
  const auto path = write_file(dir, "in.conll", input);
  const auto data = read(path);
  std::ostringstream out;
  ft::tagging::write_predictions(out, data, all_tags(data));
  CHECK(out.str() ==
        "-DOCSTART- -X- -X- O\n\nEU B-ORG\tB-ORG\nrejects O\tO\n\n\nNew\tB-LOC\tB-LOC\nYork\tI-LOC\tI-LOC\n\n");

  // Read back: the prediction is the tag now, the old tag a column before it.
  const auto again = read(write_file(dir, "out.conll", out.str()));
  CHECK(all_tags(again) == all_tags(data));
  CHECK(again.sentences[1].lines[0] == "New\tB-LOC\tB-LOC");
  CHECK(again.sentences[0].tokens == data.sentences[0].tokens);
  CHECK_THROWS_WITH(ft::tagging::write_predictions(out, data, {{"O"}}), Contains("2 sentences but predictions for 1"));
  CHECK_THROWS_WITH(ft::tagging::conll_prediction(data.sentences[0], {"O"}), Contains("line 3: 2 tokens but 1 predicted"));
}

TEST_CASE("writer: JSON lines get predicted_tags and entities, CLUENER gets character offsets", "[tagging]") {
  const auto dir = test::temp_dir("tagging-writer-json");
  const auto path = write_file(
      dir, "in.jsonl",
      "{\"tokens\": [\"New\", \"York\", \"is\", \"big\"], \"tags\": [\"B-LOC\", \"I-LOC\", \"O\", \"O\"]}\n"
      "{\"text\": \"我在北京大学读书, 住 New York\", \"label\": {\"org\": {\"北京大学\": [[2, 5]]}, "
      "\"loc\": {\"New York\": [[12, 19]]}}}\n");
  const auto data = read(path);
  REQUIRE(data.sentences.size() == 2);
  std::ostringstream out;
  ft::tagging::write_predictions(out, data, all_tags(data));
  std::istringstream lines(out.str());
  std::string line;
  REQUIRE(std::getline(lines, line));
  auto j = nlohmann::json::parse(line);
  CHECK(j["predicted_tags"] == nlohmann::json({"B-LOC", "I-LOC", "O", "O"}));
  CHECK(j["entities"] == nlohmann::json::parse(R"([{"type": "LOC", "start": 0, "end": 2, "text": "New York"}])"));
  CHECK(j["tags"] == j["predicted_tags"]);  // the input object is kept
  REQUIRE(std::getline(lines, line));
  j = nlohmann::json::parse(line);
  CHECK(j["entities"] == nlohmann::json::parse(R"([{"type": "org", "start": 2, "end": 6, "text": "北京大学"},
                                                   {"type": "loc", "start": 12, "end": 20, "text": "New York"}])"));
  // Gold tags predicted back give the gold label, in CLUENER's own form.
  CHECK(j["predicted_label"] == j["label"]);

  // Written and read again, the sentences are the same.
  const auto again = read(write_file(dir, "out.jsonl", out.str()));
  CHECK(all_tags(again) == all_tags(data));
  CHECK(again.sentences[1].char_spans == data.sentences[1].char_spans);

  const auto none = ft::tagging::json_prediction(data.sentences[0], {"O", "O", "O", "O"});
  CHECK(none["entities"].empty());
  CHECK_FALSE(none.contains("predicted_label"));
  CHECK(ft::tagging::predicted_entities(data.sentences[1], Tags(data.sentences[1].tokens.size(), "O")).empty());
}
