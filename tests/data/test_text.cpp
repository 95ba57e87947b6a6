// Counter-based RNG, line cleaning, sentence splitting, the data config.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <cmath>
#include <yaml-cpp/yaml.h>

#include "data/counter_rng.h"
#include "data/data_config.h"
#include "data/line_cleaner.h"
#include "data/sentence_splitter.h"
#include "data_fixtures.h"
#include "util/error.h"

using namespace bf::data;

TEST_CASE("counter rng: a pure function of its key and counter") {
  CounterRng a(7, Stream::kMask, {3, 11});
  CounterRng b(7, Stream::kMask, {3, 11});
  CounterRng other_index(7, Stream::kMask, {3, 12});
  CounterRng other_stream(7, Stream::kInstance, {3, 11});
  int same_other = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next_u64();
    REQUIRE(x == b.next_u64());
    same_other += x == other_index.next_u64() || x == other_stream.next_u64();
  }
  CHECK(same_other == 0);
}

TEST_CASE("counter rng: uniform, below and randint are unbiased") {
  CounterRng rng(1, Stream::kPlan, {});
  std::vector<int> counts(7, 0);
  double sum = 0;
  const int n = 70000;
  for (int i = 0; i < n; ++i) {
    counts[rng.below(7)]++;
    sum += rng.uniform();
    const auto r = rng.randint(2, 5);
    REQUIRE(r >= 2);
    REQUIRE(r <= 5);
  }
  for (int c : counts) CHECK(std::abs(c - n / 7) < 5 * std::sqrt(n / 7.0));
  CHECK(std::abs(sum / n - 0.5) < 0.01);
}

TEST_CASE("line cleaner: invalid UTF-8 and NUL bytes are found and repaired") {
  CHECK(check_line("plain ascii").clean());
  CHECK(check_line("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80").clean());
  CHECK(check_line("bad \xC3 byte").invalid_utf8);
  CHECK(check_line("overlong \xC0\xAF").invalid_utf8);
  CHECK(check_line("surrogate \xED\xA0\x80").invalid_utf8);
  CHECK(check_line(std::string("nul\0byte", 8)).has_nul);
  CHECK(repair_line("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(repair_line(std::string("a\0b", 3)) == "a b");
  CHECK(utf8_prefix_length("\xE4\xB8\xAD\xE6\x96\x87", 4) == 3);
  CHECK(utf8_prefix_length("abc", 10) == 3);
}

TEST_CASE("sentence splitter: English punctuation, abbreviations, initials, quotes") {
  const auto s = split_sentences(
      "Mr. Smith went to Washington. He arrived at 5 p.m. on Monday! Did he see J. Adams? \"Yes,\" said she. "
      "\"It was fine.\" Then they left.");
  REQUIRE(s.size() == 6);
  CHECK(s[0] == "Mr. Smith went to Washington.");
  CHECK(s[1] == "He arrived at 5 p.m. on Monday!");
  CHECK(s[2] == "Did he see J. Adams?");
  CHECK(s[3] == "\"Yes,\" said she.");
  CHECK(s[4] == "\"It was fine.\"");
  CHECK(s[5] == "Then they left.");
  CHECK(split_sentences("no end mark at all").size() == 1);
  CHECK(split_sentences("   ").empty());
}

TEST_CASE("sentence splitter: Chinese full-width ends and closing quotes") {
  const auto s = split_sentences("话说天下大势，分久必合。玄德曰：“吾乃汉室宗亲！”众人皆惊？然后");
  REQUIRE(s.size() == 4);
  CHECK(s[0] == "话说天下大势，分久必合。");
  CHECK(s[1] == "玄德曰：“吾乃汉室宗亲！”");
  CHECK(s[2] == "众人皆惊？");
  CHECK(s[3] == "然后");
}

TEST_CASE("data config: inputs as strings or mappings, bad values named with their key") {
  const std::string dir = test::temp_dir("config");
  const std::string good = dir + "/good.yaml";
  test::write_text(good,
                   "tokenizer: tok/\n"
                   "data:\n"
                   "  inputs:\n"
                   "    - corpus/*.txt\n"
                   "    - {path: more.txt.gz, format: paragraph}\n"
                   "  output: shards/\n"
                   "  whole_word_masking: true\n");
  const DataBuildConfig config = read_data_build_config(good);
  CHECK(config.tokenizer == "tok/");
  REQUIRE(config.data.inputs.size() == 2);
  CHECK(config.data.inputs[0].format == "google");
  CHECK(config.data.inputs[1].format == "paragraph");
  CHECK(config.data.whole_word_masking);

  // The same section round-trips through the YAML writer (the trainer saves resolved configs).
  DataConfig copy = config.data;
  const std::string yaml = bf::config_to_yaml(copy);
  const DataConfig again = bf::read_config_node<DataConfig>(YAML::Load(yaml), "roundtrip");
  CHECK(again.inputs[1].path == "more.txt.gz");
  CHECK(again.shard_identity() == config.data.shard_identity());

  const std::string bad = dir + "/bad.yaml";
  test::write_text(bad,
                   "tokenizer: {dir: tok/}\n"
                   "run: {name: x}\n"
                   "data:\n"
                   "  inputs: [{path: a.txt, format: markdown}]\n"
                   "  output: out\n"
                   "  masked_lm_prob: 1.5\n"
                   "  mask_token_ratio: 0.5\n"
                   "  whole_word_mask: true\n");
  try {
    read_data_build_config(bad);
    FAIL("expected an error");
  } catch (const bf::Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("data.masked_lm_prob"));
    CHECK_THAT(message, Catch::Contains("bad.yaml:6"));
    CHECK_THAT(message, Catch::Contains("'markdown' is not one of"));
    CHECK_THAT(message, Catch::Contains("must be 1"));
    CHECK_THAT(message, Catch::Contains("did you mean 'data.whole_word_masking'"));
  }
}
