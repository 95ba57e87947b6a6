// Corpus → shards: reading, bad input, the manifest, skipping and refusing.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "data/corpus_builder.h"
#include "data/corpus_reader.h"
#include "data/manifest.h"
#include "data/token_corpus.h"
#include "data_fixtures.h"
#include "util/error.h"

using namespace bf::data;
using test::temp_dir;
using test::write_text;

namespace {

std::vector<Document> read_all(const std::string& path, const std::string& format, const std::string& policy,
                               InputStats* stats = nullptr, std::size_t max_line = 1 << 20) {
  CorpusReader reader({{path, format}}, policy, max_line);
  std::vector<Document> docs;
  Document doc;
  while (reader.next(doc)) docs.push_back(doc);
  if (stats) *stats = reader.stats();
  return docs;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const bf::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("reader: Google format, blank lines end documents, empty documents counted") {
  const std::string dir = temp_dir("reader_google");
  write_text(dir + "/a.txt", "First sentence.\r\nSecond one.\n\n\n   \nOther doc.\n\n");
  InputStats stats;
  const auto docs = read_all(dir + "/a.txt", "google", "replace", &stats);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].sentences == std::vector<std::string>{"First sentence.", "Second one."});
  CHECK(docs[1].sentences == std::vector<std::string>{"Other doc."});
  CHECK(docs[1].source == dir + "/a.txt:6");
  CHECK(stats.documents == 2);
  CHECK(stats.sentences == 3);
}

TEST_CASE("reader: paragraph format is split into sentences, gzip is read transparently") {
  const std::string dir = temp_dir("reader_paragraph");
  const std::string text = "It rained. Then it stopped! Mr. Brown left.\nNew paragraph here.\n\nSecond document.\n";
  gzFile gz = gzopen((dir + "/p.txt.gz").c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  const auto docs = read_all(dir + "/p.txt.gz", "paragraph", "error");
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].sentences ==
        std::vector<std::string>{"It rained.", "Then it stopped!", "Mr. Brown left.", "New paragraph here."});
  CHECK(docs[1].sentences == std::vector<std::string>{"Second document."});
}

TEST_CASE("reader: invalid UTF-8 is replaced, skipped, or an error naming file and line") {
  const std::string dir = temp_dir("reader_utf8");
  const std::string file = dir + "/bad.txt";
  write_text(file, "good line\nbad \xFF\xFE line\nanother good\n");
  InputStats stats;
  auto docs = read_all(file, "google", "replace", &stats);
  REQUIRE(docs.size() == 1);
  REQUIRE(docs[0].sentences.size() == 3);
  CHECK(docs[0].sentences[1] == "bad \xEF\xBF\xBD\xEF\xBF\xBD line");
  CHECK(stats.invalid_utf8_lines == 1);
  CHECK(stats.repaired_lines == 1);

  docs = read_all(file, "google", "skip", &stats);
  CHECK(docs[0].sentences == std::vector<std::string>{"good line", "another good"});
  CHECK(stats.skipped_lines == 1);

  CHECK_THAT(error_of([&] { read_all(file, "google", "error"); }), Catch::Contains(file + ":2: invalid UTF-8"));
}

TEST_CASE("reader: NUL bytes inside text lines") {
  const std::string dir = temp_dir("reader_nul");
  write_text(dir + "/nul.txt", std::string("one\0two\nthree\n", 14));
  InputStats stats;
  const auto docs = read_all(dir + "/nul.txt", "google", "replace", &stats);
  CHECK(docs[0].sentences == std::vector<std::string>{"one two", "three"});
  CHECK(stats.nul_lines == 1);
  CHECK_THAT(error_of([&] { read_all(dir + "/nul.txt", "google", "error"); }), Catch::Contains("nul.txt:1: NUL bytes"));
}

TEST_CASE("reader: empty and binary files are counted and skipped, never a crash") {
  const std::string dir = temp_dir("reader_binary");
  write_text(dir + "/empty.txt", "");
  std::string binary(200000, '\0');
  std::mt19937 gen(1);
  for (auto& c : binary) c = static_cast<char>(gen() & 0xFF);
  write_text(dir + "/blob.bin", binary);
  write_text(dir + "/ok.txt", "Real text.\n");
  CorpusReader reader({{dir + "/empty.txt", "google"}, {dir + "/blob.bin", "google"}, {dir + "/ok.txt", "google"}},
                      "replace", 1 << 20);
  Document doc;
  REQUIRE(reader.next(doc));
  CHECK(doc.sentences == std::vector<std::string>{"Real text."});
  CHECK_FALSE(reader.next(doc));
  CHECK(reader.stats().empty_files == 1);
  CHECK(reader.stats().binary_files == 1);
  CHECK_THAT(error_of([&] { read_all(dir + "/blob.bin", "google", "error"); }), Catch::Contains("binary file"));
}

TEST_CASE("reader: a 10 MB line is truncated (replace), dropped (skip) or an error, in bounded memory") {
  const std::string dir = temp_dir("reader_long");
  const std::string file = dir + "/long.txt";
  {
    std::ofstream out(file, std::ios::binary);
    out << "before\n";
    std::string word = "verylongline ";
    for (int i = 0; i < (10 << 20) / static_cast<int>(word.size()); ++i) out << word;
    out << "\nafter\n";
  }
  InputStats stats;
  auto docs = read_all(file, "google", "replace", &stats, 4096);
  REQUIRE(docs[0].sentences.size() == 3);
  CHECK(docs[0].sentences[1].size() <= 4096);
  CHECK(docs[0].sentences[2] == "after");
  CHECK(stats.long_lines == 1);
  docs = read_all(file, "google", "skip", &stats, 4096);
  CHECK(docs[0].sentences == std::vector<std::string>{"before", "after"});
  CHECK_THAT(error_of([&] { read_all(file, "google", "error", nullptr, 4096); }),
             Catch::Contains("long.txt:2: line is longer than max_line_bytes"));
}

TEST_CASE("build: malformed inputs end to end (default policy) produce usable shards and counts") {
  const std::string dir = temp_dir("build_malformed");
  write_text(dir + "/in1.txt", "Hello world.\nBad \xC3( byte.\n\n\nSecond document here.\nIt has two lines.\n");
  write_text(dir + "/in2.txt", "");
  write_text(dir + "/in3.txt", std::string(5 << 20, 'x') + "\nshort line\n");
  DataConfig config = test::small_config(dir + "/in*.txt", dir + "/out", "google");
  config.heldout_fraction = 0;
  BuildOptions options;
  options.show_progress = false;
  const BuildResult result = build_corpus(config, test::english_tokenizer(), options);
  const auto& stats = result.manifest.input_stats;
  CHECK(stats["files"] == 3);
  CHECK(stats["invalid_utf8_lines"] == 1);
  CHECK(stats["empty_files"] == 1);
  CHECK(stats["long_lines"] == 1);
  CHECK(result.manifest.train.documents == 3);
}

TEST_CASE("build: manifest, 16-bit ids, checksums, held-out documents, memory-mapped reading") {
  const std::string dir = test::english_shards();
  const Manifest m = Manifest::load(dir);
  CHECK(m.token_bytes == 2);
  CHECK(m.tokenizer.vocab_size == 30522);
  CHECK(m.tokenizer.hash == test::english_tokenizer().content_hash());
  CHECK(m.train.shards.size() >= 3);  // shard_tokens 100k in the fixture
  CHECK(m.heldout.documents > 0);
  CHECK(m.heldout.documents < m.train.documents / 10);
  const auto train = TokenCorpus::open(dir, "train");
  const auto heldout = TokenCorpus::open(dir, "heldout");
  CHECK(train->num_documents() == m.train.documents);
  CHECK(static_cast<std::int64_t>(train->total_tokens()) == m.train.tokens);
  CHECK(static_cast<std::int64_t>(heldout->total_sentences()) == m.heldout.sentences);

  // The first sentence of the slice (Emma's title) reads back as its tokens.
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> starts;
  train->append_sentence(0, 0, ids, starts);
  CHECK(ids == test::english_tokenizer().encode("EMMA").ids);
}

TEST_CASE("build: an unchanged rebuild is skipped, a changed input rebuilds") {
  const std::string dir = temp_dir("build_skip");
  write_text(dir + "/in.txt", "One sentence.\nTwo sentences.\n\nA second document.\n");
  const DataConfig config = test::small_config(dir + "/in.txt", dir + "/out", "google");
  BuildOptions options;
  options.show_progress = false;
  CHECK_FALSE(build_corpus(config, test::english_tokenizer(), options).skipped);
  CHECK(build_corpus(config, test::english_tokenizer(), options).skipped);
  write_text(dir + "/in.txt", "One sentence.\nTwo sentences.\n\nA changed document.\n");
  CHECK_FALSE(build_corpus(config, test::english_tokenizer(), options).skipped);
  CHECK(build_corpus(config, test::english_tokenizer(), options).skipped);
  // The instance options do not decide the shards: changing them needs no rebuild.
  DataConfig longer = config;
  longer.max_seq_length = 512;
  longer.whole_word_masking = true;
  CHECK(build_corpus(longer, test::english_tokenizer(), options).skipped);
  options.force = true;
  CHECK_FALSE(build_corpus(config, test::english_tokenizer(), options).skipped);
}

TEST_CASE("build: shards of another tokenizer refuse to load, corruption is detected") {
  const std::string dir = temp_dir("build_refuse");
  write_text(dir + "/in.txt", "One sentence.\nTwo sentences.\n\nA second document.\n");
  const DataConfig config = test::small_config(dir + "/in.txt", dir + "/out", "google");
  BuildOptions options;
  options.show_progress = false;
  build_corpus(config, test::english_tokenizer(), options);

  const test::TestWordPiece other(test::shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"), "changed");
  const TokenizerInfo other_info = TokenizerInfo::of(other);
  CHECK_THAT(error_of([&] { TokenCorpus::open(dir + "/out", "train", &other_info); }),
             Catch::Contains("built with another tokenizer"));
  const TokenizerInfo same = TokenizerInfo::of(test::english_tokenizer());
  CHECK_NOTHROW(TokenCorpus::open(dir + "/out", "train", &same));

  const Manifest m = Manifest::load(dir + "/out");
  const std::string shard = dir + "/out/" + m.train.shards[0].file;
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(70);
    f.put('\x7f');
  }
  CHECK_THAT(error_of([&] { TokenCorpus::open(dir + "/out", "train"); }), Catch::Contains("checksum mismatch"));
  std::filesystem::resize_file(shard, 40);
  CHECK_THAT(error_of([&] { TokenCorpus::open(dir + "/out", "train"); }), Catch::Contains("truncated"));
  CHECK_FALSE(build_corpus(config, test::english_tokenizer(), options).skipped);  // a damaged build is redone
  CHECK_THAT(error_of([&] { TokenCorpus::open(dir + "/nowhere", "train"); }), Catch::Contains("no manifest.json"));
}

TEST_CASE("build with the project's tokenizer (load_tokenizer on a vocab.txt directory), on real text") {
  const std::string dir = temp_dir("real_tokenizer");
  std::filesystem::create_directories(dir + "/tok");
  std::filesystem::copy_file(test::shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"), dir + "/tok/vocab.txt");
  const auto tokenizer = bf::tok::load_tokenizer(dir + "/tok");
  write_text(dir + "/in.txt", test::document_slice(test::shared_path("data/en_pretrain/en_pretrain.txt"), 40, 200000));
  DataConfig config = test::small_config(dir + "/in.txt", dir + "/out", "google");
  BuildOptions options;
  options.show_progress = false;
  const BuildResult result = build_corpus(config, *tokenizer, options);
  CHECK(result.manifest.tokenizer.hash == tokenizer->content_hash());
  CHECK(result.manifest.tokenizer.special.mask == tokenizer->special_ids().mask);

  // Shards hold exactly what the tokenizer makes of each sentence, word starts included.
  const auto corpus = TokenCorpus::open(dir + "/out", "train");
  CorpusReader reader(expand_inputs(config.inputs), "replace", 1 << 20);
  Document doc;
  REQUIRE(reader.next(doc));
  for (std::uint32_t s = 0; s < std::min<std::uint32_t>(20, corpus->num_sentences(0)); ++s) {
    std::vector<std::int32_t> ids;
    std::vector<std::uint8_t> starts;
    corpus->append_sentence(0, s, ids, starts);
    const auto expected = tokenizer->encode(doc.sentences[s]);
    CHECK(ids == expected.ids);
    CHECK(starts == expected.word_starts);
  }
}
