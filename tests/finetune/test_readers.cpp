// File formats, label maps and the bad-row policy.
// torch (through dataset.h) brings glog's CHECK macro: include it before
// Catch so that Catch's CHECK is the one defined.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "finetune/classify/dataset.h"
#include "finetune/labels.h"
#include "finetune/row_reader.h"
#include "ft_fixture.h"
#include "tokenizer/tokenizer.h"

using namespace bf;
using Catch::Matchers::Contains;

namespace {

std::vector<ft::Row> read_all(const std::string& path, ft::classify::ReadOptions options) {
  ft::classify::BadRowPolicy policy(options.skip_bad_rows);
  return ft::classify::read_rows(path, options, policy);
}

std::unique_ptr<tok::Tokenizer> uncased(const std::string& dir) { return tok::load_tokenizer(test::vocab_dir(dir)); }

}  // namespace

TEST_CASE("TSV: header row, tab fields, quotes kept literally, BOM and CRLF removed", "[finetune][formats]") {
  const auto dir = test::temp_dir("ft-tsv");
  test::write_text(dir + "/a.tsv", "\xEF\xBB\xBFlabel\ta\tb\r\n1\tsaid \"hi\"\tthere\r\n\n0\tx\ty\n");
  ft::classify::ReadOptions o;
  o.columns = {"a", "b", "label", true, {}, true};
  const auto rows = read_all(dir + "/a.tsv", o);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].text == "said \"hi\"");
  CHECK(*rows[0].text_pair == "there");
  CHECK(rows[0].label == "1");
  CHECK(rows[0].line == 2);
  CHECK(rows[1].line == 4);
}

TEST_CASE("CSV: RFC 4180 quoting, doubled quotes, commas and newlines inside fields", "[finetune][formats]") {
  const auto dir = test::temp_dir("ft-csv");
  test::write_text(dir + "/a.csv", "text,label\n\"a, b\",x\n\"she said \"\"no\"\"\",y\n\"two\nlines\",x\nplain,y\n");
  ft::classify::ReadOptions o;
  const auto rows = read_all(dir + "/a.csv", o);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].text == "a, b");
  CHECK(rows[1].text == "she said \"no\"");
  CHECK(rows[2].text == "two\nlines");
  CHECK(rows[2].line == 4);
  CHECK(rows[3].line == 6);
  CHECK(rows[3].label == "y");

  ft::CsvRecordParser p;
  REQUIRE(p.feed("\"\",\"x\"\"\""));
  CHECK(p.take() == std::vector<std::string>{"", "x\""});
}

TEST_CASE("JSONL and gzip: labels as strings, numbers or lists", "[finetune][formats]") {
  const auto dir = test::temp_dir("ft-jsonl");
  test::write_gzip(dir + "/a.jsonl.gz",
                   "{\"text\": \"good\", \"label\": 1}\n{\"text\": \"bad\", \"label\": \"neg\", \"extra\": [1]}\n");
  ft::classify::ReadOptions o;
  const auto rows = read_all(dir + "/a.jsonl.gz", o);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].label == 1);
  CHECK(rows[1].text == "bad");
  CHECK(rows[1].object["extra"][0] == 1);
  CHECK(ft::parse_format("auto", "x.tsv.gz") == ft::FileFormat::Tsv);
  CHECK(ft::parse_format("auto", "x.csv") == ft::FileFormat::Csv);
}

TEST_CASE("label map: numeric order for integer labels, round trip through config.json", "[finetune][labels]") {
  auto numeric = ft::LabelMap::from_labels({"10", "2", "1", "2"});
  CHECK(numeric.names() == std::vector<std::string>{"1", "2", "10"});
  auto names = ft::LabelMap::from_labels({"pos", "neg", "neutral", "neg"});
  CHECK(names.names() == std::vector<std::string>{"neg", "neutral", "pos"});
  CHECK(names.id("pos") == 2);
  CHECK(names.id("other") == -1);

  model::BertConfig config = model::BertConfig::preset("tiny");
  names.store_in(config);
  config.problem_type = ft::problem_type_of(ft::TaskType::SingleLabel);
  const auto reloaded = model::BertConfig::from_json(nlohmann::json::parse(config.to_json().dump()));
  CHECK(ft::LabelMap::of(reloaded).names() == names.names());
  CHECK(reloaded.to_json()["label2id"]["neutral"] == 1);
  CHECK(ft::task_of(reloaded) == ft::TaskType::SingleLabel);
}

TEST_CASE("task types: single-label ids, multi-label lists, regression values", "[finetune][labels]") {
  const auto dir = test::temp_dir("ft-tasks");
  auto tokenizer = uncased(dir);
  test::write_text(dir + "/multi.tsv", "text\tlabel\nfirst\ta,b\nsecond\t\nthird\tc\n");
  ft::classify::ReadOptions multi;
  multi.task = ft::TaskType::MultiLabel;
  const auto rows = read_all(dir + "/multi.tsv", multi);
  const auto labels = ft::classify::build_label_map(rows, multi);
  CHECK(labels.names() == std::vector<std::string>{"a", "b", "c"});
  ft::classify::BadRowPolicy policy(false);
  auto data = ft::classify::make_dataset(dir + "/multi.tsv", rows, multi, *tokenizer, labels, policy);
  REQUIRE(data.size() == 3);
  CHECK(data.examples[0].label_ids == std::vector<std::int64_t>{0, 1});
  CHECK(data.examples[1].label_ids.empty());
  auto batch = ft::classify::collate(data, {0, 1, 2}, 0);
  CHECK(batch.labels.sizes() == torch::IntArrayRef({3, 3}));
  CHECK(batch.labels[2][2].item<float>() == 1.0f);

  test::write_text(dir + "/reg.jsonl", "{\"text\": \"a\", \"label\": 0.5}\n{\"text\": \"b c\", \"label\": \"2.25\"}\n");
  ft::classify::ReadOptions reg;
  reg.task = ft::TaskType::Regression;
  auto values = ft::classify::load_dataset(dir + "/reg.jsonl", reg, *tokenizer, ft::LabelMap());
  CHECK(values.examples[1].value == 2.25);
  auto b = ft::classify::collate(values, {1, 0}, 0);
  CHECK(b.labels.scalar_type() == torch::kFloat32);
  CHECK(b.input_ids.size(1) == 4);  // [CLS] b c [SEP]: padded to the longest of the batch only
  CHECK(b.attention_mask[1].sum().item<std::int64_t>() == 3);
}

TEST_CASE("pairs are truncated longest-first to max_seq_length", "[finetune][formats]") {
  const auto dir = test::temp_dir("ft-pairs");
  auto tokenizer = uncased(dir);
  test::write_text(dir + "/p.tsv", "label\ta\tb\n1\tone two three four five six\tseven\n");
  ft::classify::ReadOptions o;
  o.columns = {"a", "b", "label", true, {}, true};
  o.max_seq_length = 6;
  auto data = ft::classify::load_dataset(dir + "/p.tsv", o, *tokenizer, ft::LabelMap({"0", "1"}));
  const auto& e = data.examples[0];
  REQUIRE(e.input_ids.size() == 6);  // [CLS] one two [SEP] seven [SEP]
  CHECK(e.token_type_ids == std::vector<std::int32_t>{0, 0, 0, 0, 1, 1});
}

TEST_CASE("bad rows: an error naming file and line, or skipped and counted", "[finetune][bad-rows]") {
  const auto dir = test::temp_dir("ft-bad");
  auto tokenizer = uncased(dir);
  const auto file = dir + "/bad.tsv";
  test::write_text(file, "text\tlabel\ngood\tpos\nmissing a field\n\tneg\nbad \xC3\x28 utf8\tpos\nok\tneg\nnew\tunknown\n");
  ft::classify::ReadOptions strict;
  ft::classify::BadRowPolicy policy(false);
  REQUIRE_THROWS_WITH(ft::classify::read_rows(file, strict, policy), Contains("bad.tsv:3: 1 fields, the header has 2"));

  ft::classify::ReadOptions lenient;
  lenient.skip_bad_rows = true;
  auto data = ft::classify::load_dataset(file, lenient, *tokenizer, ft::LabelMap({"neg", "pos"}));
  CHECK(data.size() == 2);      // good, ok
  CHECK(data.skipped == 4);     // field count, empty text, invalid UTF-8, unknown label
  CHECK(data.examples[1].line == 6);

  test::write_text(dir + "/utf.tsv", "text\tlabel\nbad \xC3\x28 utf8\tpos\n");
  REQUIRE_THROWS_WITH(ft::classify::load_dataset(dir + "/utf.tsv", strict, *tokenizer, ft::LabelMap({"neg", "pos"})),
                      Contains("utf.tsv:2: invalid UTF-8"));
  test::write_text(dir + "/empty.tsv", "text\tlabel\n  \tpos\n");
  REQUIRE_THROWS_WITH(ft::classify::load_dataset(dir + "/empty.tsv", strict, *tokenizer, ft::LabelMap({"neg", "pos"})),
                      Contains("empty.tsv:2: empty text"));
  test::write_text(dir + "/unknown.tsv", "text\tlabel\nfine\tmaybe\n");
  REQUIRE_THROWS_WITH(ft::classify::load_dataset(dir + "/unknown.tsv", strict, *tokenizer, ft::LabelMap({"neg", "pos"})),
                      Contains("unknown.tsv:2: unknown label 'maybe'"));
  test::write_text(dir + "/nocol.tsv", "sentence\tlabel\nfine\tpos\n");
  REQUIRE_THROWS_WITH(ft::classify::load_dataset(dir + "/nocol.tsv", strict, *tokenizer, ft::LabelMap({"neg", "pos"})),
                      Contains("no column 'text'"));
  test::write_text(dir + "/nolabel.jsonl", "{\"text\": \"x\"}\n");
  REQUIRE_THROWS_WITH(ft::classify::load_dataset(dir + "/nolabel.jsonl", strict, *tokenizer, ft::LabelMap({"neg", "pos"})),
                      Contains("nolabel.jsonl:1: missing label 'label'"));
}

TEST_CASE("UTF-8 validation", "[finetune][formats]") {
  CHECK(ft::is_valid_utf8("plain"));
  CHECK(ft::is_valid_utf8("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  CHECK_FALSE(ft::is_valid_utf8("\xC0\xAF"));      // overlong
  CHECK_FALSE(ft::is_valid_utf8("\xED\xA0\x80"));  // surrogate
  CHECK_FALSE(ft::is_valid_utf8("\xE4\xB8"));      // truncated
}
