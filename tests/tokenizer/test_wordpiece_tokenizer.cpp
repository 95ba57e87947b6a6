// The WordPiece tokenizer behind the Tokenizer interface: options, word
// starts, decode, batches, the tokenizer directory and bad input.
#include <catch2/catch.hpp>

#include <filesystem>

#include "conformance.h"
#include "tokenizer/tokenizer_manifest.h"
#include "tokenizer/wordpiece_tokenizer.h"
#include "util/error.h"
#include "util/fs.h"

using namespace bf::tok;
using bf::test::temp_dir;
using Strings = std::vector<std::string>;
using Ids = std::vector<std::int32_t>;

namespace {

std::unique_ptr<Tokenizer> uncased() {
  return load_wordpiece_vocab(bf::tok::test::uncased_vocab());
}

WordPieceTokenizer with_options(WordPieceOptions options) {
  return WordPieceTokenizer(WordPieceVocab::from_file(bf::tok::test::uncased_vocab()), options);
}

}  // namespace

TEST_CASE("wordpiece: special ids, vocab size and token lookup", "[tokenizer]") {
  const auto tokenizer = uncased();
  CHECK(tokenizer->type() == "wordpiece");
  CHECK(tokenizer->vocab_size() == 30522);
  const SpecialIds ids = tokenizer->special_ids();
  CHECK(ids.pad == 0);
  CHECK(ids.unk == 100);
  CHECK(ids.cls == 101);
  CHECK(ids.sep == 102);
  CHECK(ids.mask == 103);
  CHECK(tokenizer->token_to_id("hello") == 7592);
  CHECK(tokenizer->token_to_id("##ing") == 2075);
  CHECK(tokenizer->token_to_id("not-a-token") == -1);
  CHECK(tokenizer->id_to_token(7592) == "hello");
  CHECK_THROWS_AS(tokenizer->id_to_token(30522), bf::Error);
}

TEST_CASE("wordpiece: word starts mark pieces without ## and every CJK character", "[tokenizer]") {
  const auto tokenizer = uncased();
  const Encoding e = tokenizer->encode("Crème brûlée 中文");
  REQUIRE(tokenizer->encode_pieces("Crème brûlée 中文") == Strings{"cr", "##eme", "br", "##ule", "##e", "中", "文"});
  CHECK(e.word_starts == std::vector<std::uint8_t>{1, 0, 1, 0, 0, 1, 1});
  CHECK(e.ids.size() == e.word_starts.size());
}

TEST_CASE("wordpiece: decode glues ## continuations", "[tokenizer]") {
  const auto tokenizer = uncased();
  CHECK(tokenizer->decode(tokenizer->encode("Unwanted running, Crème brûlée!").ids) == "unwanted running , creme brulee !");
}

TEST_CASE("wordpiece: never_split_special keeps literal special tokens whole", "[tokenizer]") {
  const std::string text = "a [MASK] b[SEP]c [mask]";
  CHECK(with_options({}).encode_pieces(text) ==
        Strings{"a", "[", "mask", "]", "b", "[", "sep", "]", "c", "[", "mask", "]"});
  WordPieceOptions keep;
  keep.never_split_special = true;
  CHECK(with_options(keep).encode_pieces(text) == Strings{"a", "[MASK]", "b", "[SEP]", "c", "[", "mask", "]"});
}

TEST_CASE("wordpiece: cased vocabulary use keeps case and accents", "[tokenizer]") {
  WordPieceOptions cased;
  cased.do_lower_case = false;
  // bert-base-uncased has no upper-case tokens, so cased text is mostly [UNK].
  CHECK(with_options(cased).encode_pieces("Hello hello") == Strings{"[UNK]", "hello"});
  WordPieceOptions lower_keep_accents;
  lower_keep_accents.strip_accents = false;
  // "café" is not in the vocabulary and cannot be built from pieces.
  CHECK(with_options(lower_keep_accents).encode_pieces("Café") == Strings{"[UNK]"});
  CHECK(with_options({}).encode_pieces("Café") == Strings{"cafe"});
}

TEST_CASE("wordpiece: words over max_input_chars_per_word become [UNK]", "[tokenizer]") {
  const std::string word101(101, 'x');
  WordPieceOptions google;
  google.max_input_chars_per_word = 200;
  CHECK(with_options({}).encode_pieces(word101) == Strings{"[UNK]"});
  CHECK(with_options(google).encode_pieces(word101).size() > 1);
  CHECK(with_options({}).encode_pieces(std::string(100, 'x')).size() > 1);
}

TEST_CASE("wordpiece: invalid UTF-8 never crashes and drops the bad bytes", "[tokenizer]") {
  const auto tokenizer = uncased();
  CHECK(tokenizer->encode_pieces("hel\xfflo wor\xc3ld") == tokenizer->encode_pieces("hello world"));
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>((i * 7919) & 0xFF));
  CHECK_NOTHROW(tokenizer->encode(noise));
}

TEST_CASE("encode_batch equals encode, in order, on several threads", "[tokenizer]") {
  const auto tokenizer = uncased();
  const auto lines = bf::tok::test::read_lines(bf::tok::test::english_corpus(), 3000);
  const auto batch = tokenizer->encode_batch(lines, 4);
  REQUIRE(batch.size() == lines.size());
  for (std::size_t i = 0; i < lines.size(); i += 37) {
    CHECK(batch[i].ids == tokenizer->encode(lines[i]).ids);
    CHECK(batch[i].word_starts == tokenizer->encode(lines[i]).word_starts);
  }
  CHECK(tokenizer->encode_batch({}, 4).empty());
}

TEST_CASE("encode_pair: single text, padding and too small max_len", "[tokenizer]") {
  const auto tokenizer = uncased();
  const PairEncoding single = tokenizer->encode_pair("hello world", std::nullopt, 6, true);
  CHECK(single.input_ids == Ids{101, 7592, 2088, 102, 0, 0});
  CHECK(single.token_type_ids == Ids{0, 0, 0, 0, 0, 0});
  CHECK(single.attention_mask == Ids{1, 1, 1, 1, 0, 0});
  const PairEncoding pair = tokenizer->encode_pair("hello world", std::string_view("hello"), 512);
  CHECK(pair.input_ids == Ids{101, 7592, 2088, 102, 7592, 102});
  CHECK(pair.token_type_ids == Ids{0, 0, 0, 0, 1, 1});
  // A tie drops from the second text.
  CHECK(tokenizer->encode_pair("a b", std::string_view("c d"), 6).input_ids ==
        tokenizer->encode_pair("a b", std::string_view("c"), 6).input_ids);
  CHECK_THROWS_AS(tokenizer->encode_pair("a", std::string_view("b"), 2), bf::Error);
}

TEST_CASE("wordpiece tokenizer directory: save, load, hash check", "[tokenizer]") {
  const std::string dir = temp_dir("wp_dir");
  WordPieceOptions options;
  options.never_split_special = true;
  const auto original = with_options(options);
  original.save(dir);
  const auto loaded = load_tokenizer(dir);
  CHECK(loaded->type() == "wordpiece");
  CHECK(loaded->content_hash() == original.content_hash());
  CHECK(loaded->encode_pieces("x [MASK] y") == Strings{"x", "[MASK]", "y"});
  CHECK(read_manifest(dir).vocab_size == 30522);
  // The options are part of the identity.
  CHECK(with_options({}).content_hash() != original.content_hash());
  CHECK_NOTHROW(check_tokenizer_matches(*loaded, original.content_hash(), 30522, "model"));
  CHECK_THROWS_WITH(check_tokenizer_matches(*loaded, original.content_hash(), 32000, "model"),
                    Catch::Contains("30522") && Catch::Contains("32000"));

  SECTION("a model directory carries its tokenizer in tokenizer/") {
    const std::string model = temp_dir("wp_model");
    original.save(model + "/tokenizer");
    CHECK(load_tokenizer(model)->content_hash() == original.content_hash());
  }
  SECTION("an edited vocabulary no longer matches the manifest") {
    bf::write_file_atomic(dir + "/vocab.txt", bf::read_file(dir + "/vocab.txt") + "extra\n");
    CHECK_THROWS_WITH(load_tokenizer(dir), Catch::Contains("vocab_size"));
  }
  SECTION("a bare vocab.txt is an uncased WordPiece tokenizer") {
    std::filesystem::remove(dir + "/" + kManifestName);
    CHECK(load_tokenizer(dir)->encode_pieces("Hello") == Strings{"hello"});
  }
}

TEST_CASE("bad tokenizer input gives clear errors", "[tokenizer]") {
  const std::string dir = temp_dir("wp_bad");
  CHECK_THROWS_WITH(load_tokenizer(dir), Catch::Contains("not a tokenizer directory"));
  CHECK_THROWS_WITH(load_tokenizer(dir + "/absent"), Catch::Contains("not found"));
  CHECK_THROWS_WITH(load_wordpiece_vocab(dir + "/vocab.txt"), Catch::Contains("vocab.txt: vocabulary file not found"));
  bf::write_file_atomic(dir + "/empty.txt", "");
  CHECK_THROWS_WITH(load_wordpiece_vocab(dir + "/empty.txt"), Catch::Contains("empty"));
  bf::write_file_atomic(dir + "/no_unk.txt", "[PAD]\nhello\n");
  CHECK_THROWS_WITH(load_wordpiece_vocab(dir + "/no_unk.txt"), Catch::Contains("no [UNK]"));
  bf::write_file_atomic(dir + "/binary.txt", "[UNK]\nhel\xfflo\n");
  CHECK_THROWS_WITH(load_wordpiece_vocab(dir + "/binary.txt"), Catch::Contains("binary.txt:2"));
  bf::write_file_atomic(dir + "/" + kManifestName, "{ not json");
  CHECK_THROWS_WITH(load_tokenizer(dir), Catch::Contains(kManifestName) && Catch::Contains("invalid"));
}
