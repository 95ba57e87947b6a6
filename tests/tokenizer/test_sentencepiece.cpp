// SentencePiece through the bridge: training from settings, fixed special
// ids, encode/decode, word starts, Chinese round trip and bad models.
#include <catch2/catch.hpp>

#include <filesystem>

#include "conformance.h"
#include "tokenizer/spm_trainer.h"
#include "tokenizer/tokenizer_manifest.h"
#include "util/error.h"
#include "util/fs.h"

using namespace bf::tok;
using bf::test::temp_dir;

namespace {

// Writes the first n non-empty lines of a corpus, so training stays fast.
std::string write_sample(const std::string& dir, const std::string& corpus, std::size_t skip, std::size_t n) {
  auto lines = bf::tok::test::read_lines(corpus, skip + n);
  std::string text;
  for (std::size_t i = skip; i < lines.size(); ++i) text += lines[i] + "\n";
  const std::string path = dir + "/sample.txt";
  bf::write_file_atomic(path, text);
  return path;
}

SpmTrainConfig small_config(const std::string& input, const std::string& output_dir, int vocab_size) {
  SpmTrainConfig config;
  config.input = {input};
  config.output_dir = output_dir;
  config.vocab_size = vocab_size;
  config.input_sentence_size = 0;
  config.num_threads = 2;
  return config;
}

// One small English model shared by the tests below (training takes a few seconds).
const Tokenizer& english_model() {
  static const std::string dir = temp_dir("spm_en");
  static std::unique_ptr<Tokenizer> tokenizer = [] {
    const std::string sample = write_sample(dir, bf::tok::test::english_corpus(), 0, 4000);
    return train_sentencepiece(small_config(sample, dir + "/tok", 1000));
  }();
  return *tokenizer;
}

}  // namespace

TEST_CASE("sentencepiece: BERT's special tokens at ids 0-4", "[tokenizer][spm]") {
  const Tokenizer& tokenizer = english_model();
  CHECK(tokenizer.type() == "sentencepiece");
  CHECK(tokenizer.vocab_size() == 1000);
  const SpecialIds ids = tokenizer.special_ids();
  CHECK(ids.pad == 0);
  CHECK(ids.unk == 1);
  CHECK(ids.cls == 2);
  CHECK(ids.sep == 3);
  CHECK(ids.mask == 4);
  CHECK(tokenizer.id_to_token(4) == "[MASK]");
  CHECK(tokenizer.token_to_id("[CLS]") == 2);
  // Control symbols (and padding) are never produced from text.
  for (auto id : tokenizer.encode("[MASK] [CLS] [PAD]").ids) CHECK((id == 1 || id > 4));
}

TEST_CASE("sentencepiece: encode, decode and word starts", "[tokenizer][spm]") {
  const Tokenizer& tokenizer = english_model();
  const std::string text = "And it came to pass, that the king answered them.";
  const Encoding e = tokenizer.encode(text);
  REQUIRE(!e.ids.empty());
  CHECK(tokenizer.decode(e.ids) == text);
  const auto pieces = tokenizer.encode_pieces(text);
  REQUIRE(pieces.size() == e.ids.size());
  int words = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    CHECK(tokenizer.token_to_id(pieces[i]) == e.ids[i]);
    CHECK((e.word_starts[i] == 1) == (pieces[i].rfind("\xE2\x96\x81", 0) == 0));
    words += e.word_starts[i];
  }
  CHECK(words == 10);
  const auto batch = tokenizer.encode_batch({text, "", "the king"}, 2);
  CHECK(batch[0].ids == e.ids);
  CHECK(batch[1].ids.empty());
  const PairEncoding pair = tokenizer.encode_pair("the king", std::string_view("the queen"), 8, true);
  CHECK(pair.input_ids.front() == 2);
  CHECK(pair.input_ids.size() == 8);
}

TEST_CASE("sentencepiece: batches on threads and text that is not UTF-8", "[tokenizer][spm]") {
  const Tokenizer& tokenizer = english_model();
  const auto lines = bf::tok::test::read_lines(bf::tok::test::english_corpus(), 2000);
  const auto batch = tokenizer.encode_batch(lines, 4);
  REQUIRE(batch.size() == lines.size());
  for (std::size_t i = 0; i < lines.size(); i += 23) CHECK(batch[i].ids == tokenizer.encode(lines[i]).ids);
  // sentencepiece reads malformed bytes as unknown characters.
  const Encoding e = tokenizer.encode("the \xff\xfe king \xc3");
  CHECK(!e.ids.empty());
  CHECK_NOTHROW(tokenizer.decode(e.ids));
  CHECK_THROWS_AS(tokenizer.decode({1000}), bf::Error);
}

TEST_CASE("sentencepiece: tokenizer directory with manifest and hash", "[tokenizer][spm]") {
  const Tokenizer& trained = english_model();
  const std::string dir = temp_dir("spm_saved");
  trained.save(dir);
  CHECK(bf::path_exists(dir + "/spm.model"));
  CHECK(bf::path_exists(dir + "/spm.vocab"));
  const TokenizerManifest manifest = read_manifest(dir);
  CHECK(manifest.type == "sentencepiece");
  CHECK(manifest.vocab_size == 1000);
  CHECK(manifest.special_ids.mask == 4);
  CHECK(manifest.training_json.find("\"unigram\"") != std::string::npos);
  const auto loaded = load_tokenizer(dir);
  CHECK(loaded->content_hash() == trained.content_hash());
  CHECK(loaded->encode("the king").ids == trained.encode("the king").ids);

  SECTION("a corrupted spm.model is an error that names the file") {
    bf::write_file_atomic(dir + "/spm.model", "this is not a sentencepiece model");
    CHECK_THROWS_WITH(load_tokenizer(dir), Catch::Contains("spm.model"));
  }
  SECTION("a missing spm.model is an error that names the file") {
    std::filesystem::remove(dir + "/spm.model");
    CHECK_THROWS_WITH(load_tokenizer(dir), Catch::Contains("spm.model") && Catch::Contains("not found"));
  }
}

TEST_CASE("sentencepiece: training errors come back as bf::Error", "[tokenizer][spm]") {
  const std::string dir = temp_dir("spm_errors");
  CHECK_THROWS_WITH(train_sentencepiece(small_config(dir + "/absent.txt", dir + "/tok", 100)),
                    Catch::Contains("absent.txt") && Catch::Contains("not found"));
  const std::string sample = write_sample(dir, bf::tok::test::english_corpus(), 0, 200);
  // Far too many pieces for 200 sentences.
  CHECK_THROWS_WITH(train_sentencepiece(small_config(sample, dir + "/tok", 500000)),
                    Catch::Contains("sentencepiece training failed"));
}

TEST_CASE("sentencepiece: Chinese with character_coverage 1.0 round-trips the text", "[tokenizer][spm]") {
  const std::string dir = temp_dir("spm_zh");
  const std::string sample = write_sample(dir, bf::tok::test::chinese_corpus(), 0, 500);
  SpmTrainConfig config = small_config(sample, dir + "/tok", 5000);
  config.max_sentence_length = 16384;
  config.character_coverage = 1.0;
  config.normalization_rule_name = "identity";
  config.byte_fallback = true;
  config.hard_vocab_limit = false;
  const auto tokenizer = train_sentencepiece(config);
  CHECK(tokenizer->vocab_size() <= 5000);
  CHECK(read_manifest(dir + "/tok").vocab_size == tokenizer->vocab_size());

  auto round_trips = [&](const std::vector<std::string>& lines) {
    int failures = 0;
    for (const auto& line : lines) {
      if (tokenizer->decode(tokenizer->encode(line).ids) != line && ++failures <= 3) UNSCOPED_INFO("line: " << line);
    }
    return failures;
  };
  // Lines it was trained on, and later lines with characters it never saw
  // (byte fallback).
  CHECK(round_trips(bf::tok::test::read_lines(sample, 300)) == 0);
  auto unseen = bf::tok::test::read_lines(bf::tok::test::chinese_corpus(), 100000);
  REQUIRE(unseen.size() > 10000);
  unseen.erase(unseen.begin(), unseen.end() - 300);  // the end of another novel
  CHECK(round_trips(unseen) == 0);
  // Every CJK character piece starts a word.
  const Encoding e = tokenizer->encode("孔明");
  for (auto s : e.word_starts) CHECK(s == 1);
}
