// Chinese word segmentation at build time: ICU, pretokenized text, HF ref
// files, user words; alignment onto the pieces' word starts (never the ids).
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <unicode/brkiter.h>
#include <unicode/unistr.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "data/corpus_builder.h"
#include "data/corpus_reader.h"
#include "data/icu_cjk_dictionary.h"
#include "data/manifest.h"
#include "data/token_corpus.h"
#include "data/word_alignment.h"
#include "data/word_segmenter.h"
#include "data_fixtures.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/fs.h"

using namespace bf::data;
using test::temp_dir;
using test::write_text;
namespace fs = std::filesystem;

namespace {

const bf::tok::Tokenizer& chinese_wordpiece() {
  static const auto tokenizer =
      bf::tok::load_wordpiece_vocab(test::shared_path("data/bert_vocab/bert-base-chinese-vocab.txt"));
  return *tokenizer;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const bf::Error& e) {
    return e.what();
  }
  return "";
}

std::u32string codepoints(const std::string& text) {
  std::u32string out;
  const char* end = text.data() + text.size();
  for (const char* p = text.data(); p < end;) {
    char32_t cp;
    const int n = bf::tok::unicode::decode_utf8(p, end, &cp);
    REQUIRE(n > 0);
    out.push_back(cp);
    p += n;
  }
  return out;
}

std::string utf8(const std::u32string& text) {
  std::string out;
  for (char32_t cp : text) bf::tok::unicode::append_utf8(out, cp);
  return out;
}

// The words the flags make of the CJK characters (runs of "continues").
std::vector<std::string> cjk_words(const SegmentedSentence& s) {
  std::vector<std::string> words;
  for (std::size_t k = 0; k < s.cjk.size(); ++k) {
    if (k == 0 || !s.continues[k]) words.emplace_back();
    bf::tok::unicode::append_utf8(words.back(), s.cjk[k]);
  }
  return words;
}

SegmentedSentence segment(SegmentationMode mode, const std::string& text,
                          std::shared_ptr<const UserLexicon> lexicon = nullptr) {
  WordSegmenter segmenter(mode, std::move(lexicon));
  SegmentedSentence out;
  segmenter.segment(text, out);
  return out;
}

bool contains(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// The words of an encoding as its word starts group the pieces ("##" dropped).
std::vector<std::string> word_groups(const bf::tok::Tokenizer& tokenizer, const bf::tok::Encoding& e) {
  std::vector<std::string> groups;
  for (std::size_t i = 0; i < e.ids.size(); ++i) {
    std::string piece = tokenizer.id_to_token(e.ids[i]);
    if (piece.rfind("##", 0) == 0) piece = piece.substr(2);
    if (i == 0 || e.word_starts[i]) groups.emplace_back();
    groups.back() += piece;
  }
  return groups;
}

bf::tok::Encoding segmented_encoding(const SegmentedSentence& s, SegmentationCounters* counters = nullptr) {
  const PieceCjkTable pieces(chinese_wordpiece());
  bf::tok::Encoding e = chinese_wordpiece().encode(s.text);
  SegmentationCounters local;
  align_word_starts(pieces, s, e, counters ? *counters : local);
  return e;
}

// An independent segmentation: ICU over each run of Han characters as UTF-16
// (the build walks UTF-8 runs). Per CJK character: continues its word.
std::vector<std::uint8_t> independent_icu_continues(const std::string& text) {
  const std::u32string cps = codepoints(text);
  std::vector<std::uint8_t> continues;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> words(icu::BreakIterator::createWordInstance(icu::Locale("zh"), status));
  REQUIRE(U_SUCCESS(status));
  std::size_t i = 0;
  while (i < cps.size()) {
    if (!bf::tok::unicode::is_cjk(cps[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < cps.size() && bf::tok::unicode::is_cjk(cps[end])) ++end;
    const icu::UnicodeString run = icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(cps.data() + i),
                                                                 static_cast<std::int32_t>(end - i));
    std::set<std::int32_t> boundaries;  // as codepoint offsets in the run
    words->setText(run);
    for (std::int32_t b = words->first(); b != icu::BreakIterator::DONE; b = words->next()) {
      boundaries.insert(run.countChar32(0, b));
    }
    for (std::size_t k = i; k < end; ++k) {
      continues.push_back(k > i && !boundaries.count(static_cast<std::int32_t>(k - i)));
    }
    i = end;
  }
  return continues;
}

// Modern Chinese: the first `count` contexts of CMRC 2018's training set, one
// per line, a document every five lines.
std::string cmrc_paragraphs(std::size_t count, bool skip_unknown = false) {
  std::ifstream in(test::shared_path("data/cmrc2018/cmrc2018_train.json"));
  const auto json = nlohmann::json::parse(in);
  std::string out;
  std::size_t taken = 0;
  for (const auto& article : json["data"]) {
    for (const auto& paragraph : article["paragraphs"]) {
      std::string context = paragraph["context"].get<std::string>();
      std::replace(context.begin(), context.end(), '\n', ' ');
      if (skip_unknown) {
        const auto ids = chinese_wordpiece().encode(context).ids;
        if (std::count(ids.begin(), ids.end(), chinese_wordpiece().special_ids().unk) > 0) continue;
      }
      out += context + "\n";
      if (++taken % 5 == 0) out += "\n";
      if (taken == count) return out;
    }
  }
  return out;
}

DataConfig zh_config(const std::string& input, const std::string& output, const std::string& segmentation) {
  DataConfig c;
  c.inputs = {{input, "paragraph", ""}};
  c.output = output;
  c.heldout_fraction = 0;  // every document in train, in order, for the walks below
  c.shard_tokens = 50000;  // several shards
  c.word_segmentation = segmentation;
  return c;
}

BuildResult build(const DataConfig& config, bool force = false) {
  BuildOptions options;
  options.show_progress = false;
  options.force = force;
  return build_corpus(config, chinese_wordpiece(), options);
}

struct ShardSentence {
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> starts;
};

std::vector<ShardSentence> read_train(const std::string& dir) {
  const auto corpus = TokenCorpus::open(dir, "train");
  std::vector<ShardSentence> out;
  for (std::uint32_t d = 0; d < corpus->num_documents(); ++d) {
    for (std::uint32_t s = 0; s < corpus->num_sentences(d); ++s) {
      out.emplace_back();
      corpus->append_sentence(d, s, out.back().ids, out.back().starts);
    }
  }
  return out;
}

// The sentences the build tokenized, in order (those with tokens).
std::vector<std::string> corpus_sentences(const DataConfig& config) {
  CorpusReader reader(expand_inputs(config.inputs), config.bad_input, static_cast<std::size_t>(config.max_line_bytes));
  std::vector<std::string> out;
  Document doc;
  while (reader.next(doc)) {
    for (const auto& s : doc.sentences) out.push_back(s);
  }
  return out;
}

std::map<std::string, std::string> shard_bytes(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != kManifestFile) files[name] = bf::read_file(entry.path().string());
  }
  return files;
}

// Everything under `dir` (names and sizes), to show a failed build changed nothing.
std::map<std::string, std::uintmax_t> listing(const std::string& dir) {
  std::map<std::string, std::uintmax_t> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    out[entry.path().string()] = entry.is_regular_file() ? entry.file_size() : 0;
  }
  return out;
}

}  // namespace

TEST_CASE("segmentation: ICU splits modern Chinese into dictionary words", "[segmentation]") {
  const auto s = segment(SegmentationMode::kIcu, "我们在北京大学学习自然语言处理。");
  CHECK(s.text == "我们在北京大学学习自然语言处理。");
  REQUIRE(s.cjk.size() == 15);
  const auto words = cjk_words(s);
  INFO("ICU gave: " << [&] { std::string j; for (const auto& w : words) j += w + "|"; return j; }());
  CHECK(contains(words, "我们"));
  CHECK(contains(words, "学习"));
  CHECK(contains(words, "在"));
  CHECK((contains(words, "北京") || contains(words, "北京大学")));
  CHECK(s.continues[0] == 0);
  // A lone CJK character between Latin letters starts a word; ICU never sees it.
  const auto lone = segment(SegmentationMode::kIcu, "a中b");
  CHECK(lone.continues == std::vector<std::uint8_t>{0});
}

TEST_CASE("segmentation: the dictionary path gives ICU's iterator's words, on classical and modern text",
          "[segmentation]") {
  const IcuCjkDictionary* dictionary = IcuCjkDictionary::get();
  INFO("ICU's cjdict could not be read, or its words differ from the iterator's: icu segmentation is slow");
  REQUIRE(dictionary != nullptr);
  const std::string text =
      test::document_slice(test::shared_path("data/zh_four_classics/four_classics_clean.txt"), 7, 300000) +
      cmrc_paragraphs(300);
  std::int64_t runs = 0;
  std::vector<std::uint8_t> starts;
  for (const std::u32string& run : [&] {
         std::vector<std::u32string> out(1);
         for (char32_t cp : codepoints(text)) {
           if (bf::tok::unicode::is_cjk(cp)) {
             out.back().push_back(cp);
           } else if (!out.back().empty()) {
             out.emplace_back();
           }
         }
         return out;
       }()) {
    if (run.size() < 2 || !dictionary->segment(run.data(), run.size(), starts)) continue;
    ++runs;
    std::vector<std::uint8_t> expected = independent_icu_continues(utf8(run));
    for (auto& flag : expected) flag = !flag;
    REQUIRE(starts == expected);
  }
  CHECK(runs > 20000);
  // Characters NFKC changes (compatibility ideographs) and supplementary ones go to the iterator.
  CHECK_FALSE(dictionary->segment(U"北京豈", 3, starts));
  CHECK_FALSE(dictionary->segment(U"北京𠀀", 3, starts));
}

TEST_CASE("segmentation: pretokenized removes whitespace between CJK characters only", "[segmentation]") {
  const auto s = segment(SegmentationMode::kPretokenized, "我们  在 北京大学 , 用 iPhone 手机\u3000学习 ok ");
  CHECK(s.text == "我们在北京大学 , 用 iPhone 手机学习 ok ");
  CHECK(cjk_words(s) == std::vector<std::string>{"我们", "在", "北京大学", "用", "手机", "学习"});
  CHECK(s.continues[0] == 0);
}

TEST_CASE("segmentation: user words are kept whole (icu and pretokenized)", "[segmentation]") {
  const std::string text = "他服用阿司匹林后去北京大学附属医院院长办公室";
  auto lexicon = std::make_shared<const UserLexicon>(UserLexicon::from_words({"阿司匹林", "北京大学附属医院", "# not a word"}));
  const auto plain = segment(SegmentationMode::kIcu, text);
  CHECK_FALSE(contains(cjk_words(plain), "北京大学附属医院"));

  const auto with_words = segment(SegmentationMode::kIcu, text, lexicon);
  const auto words = cjk_words(with_words);
  CHECK(contains(words, "阿司匹林"));
  CHECK(contains(words, "北京大学附属医院"));
  CHECK(with_words.user_word_hits == 2);
  // The character after an occurrence starts a word.
  const std::size_t after = codepoints("他服用阿司匹林后去北京大学附属医院").size();
  CHECK(with_words.continues[after] == 0);

  const auto spaced = segment(SegmentationMode::kPretokenized, "他 服用 阿 司 匹林 后 去 北京 大学 附属 医院 院长 办公室", lexicon);
  CHECK(spaced.text == text);
  CHECK(contains(cjk_words(spaced), "阿司匹林"));
  CHECK(contains(cjk_words(spaced), "北京大学附属医院"));
  CHECK(contains(cjk_words(spaced), "院长"));

  // Leftmost-longest: 北京大学附属医院 wins over 北京大学 at the same place.
  auto nested = std::make_shared<const UserLexicon>(UserLexicon::from_words({"北京大学", "北京大学附属医院"}));
  CHECK(contains(cjk_words(segment(SegmentationMode::kPretokenized, "北京 大学 附属 医院", nested)), "北京大学附属医院"));

  // Aligned onto the pieces: each word is one group of word starts.
  const auto groups = word_groups(chinese_wordpiece(), segmented_encoding(with_words));
  CHECK(contains(groups, "阿司匹林"));
  CHECK(contains(groups, "北京大学附属医院"));
}

TEST_CASE("segmentation: mixed Chinese and English text; ids are a plain encode of the same text", "[segmentation]") {
  const std::string text = "我用iPhone手机playing游戏";
  const auto s = segment(SegmentationMode::kIcu, text);
  SegmentationCounters counters;
  const auto e = segmented_encoding(s, &counters);
  CHECK(e.ids == chinese_wordpiece().encode(text).ids);
  CHECK(word_groups(chinese_wordpiece(), e) == std::vector<std::string>{"我", "用", "iphone", "手机", "playing", "游戏"});
  CHECK(counters.fallbacks() == 0);

  // Pretokenized: the spaces between CJK words go before tokenizing, the ids
  // are those of the joined text (never "##" pieces for Chinese).
  const auto p = segment(SegmentationMode::kPretokenized, "我 用 iPhone 手机 playing 游戏");
  const auto pe = segmented_encoding(p);
  CHECK(pe.ids == chinese_wordpiece().encode(p.text).ids);
  CHECK(word_groups(chinese_wordpiece(), pe) == std::vector<std::string>{"我", "用", "iphone", "手机", "playing", "游戏"});
  for (std::int32_t id : pe.ids) {
    const std::string piece = chinese_wordpiece().id_to_token(id);
    CHECK_FALSE((piece.rfind("##", 0) == 0 && bf::tok::unicode::is_cjk(codepoints(piece.substr(2))[0])));
  }
}

namespace {

// SentencePiece-like: greedy longest match over a fixed list of pieces,
// multi-character Chinese pieces included; an unknown character is [UNK].
class GreedyPieces : public bf::tok::Tokenizer {
 public:
  GreedyPieces()
      : pieces_{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "北京大", "学", "我", "在", "读", "书",
                "\xE2\x96\x81" "x", "<0xE5>"} {}
  std::string type() const override { return "test"; }
  bf::tok::Encoding encode(std::string_view text) const override {
    bf::tok::Encoding out;
    std::size_t at = 0;
    while (at < text.size()) {
      std::int32_t best = -1;
      std::size_t best_length = 0;
      for (std::size_t id = 5; id < pieces_.size(); ++id) {
        std::string_view piece = pieces_[id];
        if (piece.rfind("\xE2\x96\x81", 0) == 0) piece.remove_prefix(3);
        if (piece.size() > best_length && text.substr(at, piece.size()) == piece) {
          best = static_cast<std::int32_t>(id);
          best_length = piece.size();
        }
      }
      if (best < 0) {
        best = 1;
        char32_t cp;
        best_length = static_cast<std::size_t>(bf::tok::unicode::decode_utf8(text.data() + at, text.data() + text.size(), &cp));
      }
      out.ids.push_back(best);
      out.word_starts.push_back(1);
      at += best_length;
    }
    return out;
  }
  std::vector<std::string> encode_pieces(std::string_view) const override { return {}; }
  std::string decode(const std::vector<std::int32_t>&) const override { return ""; }
  std::int32_t token_to_id(std::string_view) const override { return -1; }
  std::string id_to_token(std::int32_t id) const override { return pieces_.at(static_cast<std::size_t>(id)); }
  std::int32_t vocab_size() const override { return static_cast<std::int32_t>(pieces_.size()); }
  bf::tok::SpecialIds special_ids() const override { return {0, 1, 2, 3, 4}; }
  std::string content_hash() const override { return "greedy"; }
  void save(const std::string&) const override {}

 private:
  std::vector<std::string> pieces_;
};

}  // namespace

TEST_CASE("segmentation: a boundary inside a piece keeps the piece whole; [UNK] ends alignment", "[segmentation]") {
  const GreedyPieces tokenizer;
  const PieceCjkTable pieces(tokenizer);
  CHECK(pieces.cjk(5) == U"北京大");
  CHECK(pieces.starts_with_cjk(5));
  CHECK_FALSE(pieces.is_single_cjk(5));
  CHECK(pieces.is_single_cjk(6));
  CHECK(pieces.is_opaque(1));
  CHECK(pieces.is_opaque(12));  // "<0xE5>"
  CHECK_FALSE(pieces.is_opaque(6));

  // 我|在|北京|大学|读书 over the pieces 我 在 北京大 学 读 书.
  const auto s = segment(SegmentationMode::kPretokenized, "我 在 北京 大学 读书");
  auto e = tokenizer.encode(s.text);
  REQUIRE(e.ids == std::vector<std::int32_t>{7, 8, 5, 6, 9, 10});
  SegmentationCounters counters;
  align_word_starts(pieces, s, e, counters);
  CHECK(e.word_starts == std::vector<std::uint8_t>{1, 1, 1, 0, 1, 0});  // 北京大学 is one unit
  CHECK(counters.pieces_across_words == 1);
  CHECK(counters.unaligned_sentences == 0);

  // [UNK] stands for a CJK character or for other text; alignment goes on
  // after it either way ([UNK] keeps its start: it is never masked).
  const auto u = segment(SegmentationMode::kPretokenized, "我 在𠀀 北京 大学 ☃ 读书");
  e = tokenizer.encode(u.text);
  REQUIRE(u.text == "我在𠀀北京大学 ☃ 读书");
  REQUIRE(e.ids == std::vector<std::int32_t>{7, 8, 1, 5, 6, 1, 1, 1, 9, 10});  // " " and ☃ are [UNK] here
  counters = {};
  align_word_starts(pieces, u, e, counters);
  CHECK(e.word_starts == std::vector<std::uint8_t>{1, 1, 1, 1, 0, 1, 1, 1, 1, 0});
  CHECK(counters.unaligned_sentences == 0);

  // A piece whose characters are not the text's (normalisation changed one):
  // the tokenizer's word starts from there on, counted.
  const auto n = segment(SegmentationMode::kPretokenized, "我 在 读书");
  e.ids = {7, 9, 8, 10};  // 我 读 在 书
  e.word_starts.assign(4, 1);
  counters = {};
  align_word_starts(pieces, n, e, counters);
  CHECK(e.word_starts == std::vector<std::uint8_t>{1, 1, 1, 1});
  CHECK(counters.unaligned_sentences == 1);
}

TEST_CASE("segmentation: an icu build keeps every multi-character word one group; ids as without", "[segmentation]") {
  const std::string dir = temp_dir("seg_icu");
  write_text(dir + "/zh.txt", cmrc_paragraphs(150));
  const DataConfig plain_config = zh_config(dir + "/zh.txt", dir + "/plain", "none");
  const DataConfig icu_config = zh_config(dir + "/zh.txt", dir + "/icu", "icu");
  const BuildResult plain = build(plain_config);
  const BuildResult icu = build(icu_config);
  CHECK(plain.manifest.segmentation.is_null());
  REQUIRE(icu.manifest.segmentation.is_object());
  const auto& counters = icu.manifest.segmentation;
  CHECK(counters["mode"] == "icu");
  CHECK(counters["multi_char_words"].get<std::int64_t>() > 10000);
  CHECK(counters["words"].get<std::int64_t>() < icu.manifest.train.tokens);
  // The counters reach the manifest on disk (and so `data inspect`).
  CHECK(Manifest::load(dir + "/icu").segmentation == counters);

  const auto sentences = corpus_sentences(icu_config);
  const auto plain_shards = read_train(dir + "/plain");
  const auto icu_shards = read_train(dir + "/icu");
  REQUIRE(icu_shards.size() == plain_shards.size());
  std::size_t next = 0;
  std::int64_t words_checked = 0, sentences_skipped = 0, starts_differing = 0;
  for (const auto& sentence : sentences) {
    const auto plain_encoding = chinese_wordpiece().encode(sentence);
    if (plain_encoding.ids.empty()) continue;
    REQUIRE(next < icu_shards.size());
    const ShardSentence& got = icu_shards[next];
    const ShardSentence& without = plain_shards[next++];
    // Segmentation never changes an id; without it the shards hold the plain encoding.
    REQUIRE(got.ids == plain_encoding.ids);
    REQUIRE(without.ids == plain_encoding.ids);
    CHECK(without.starts == plain_encoding.word_starts);

    // Each CJK character is one WordPiece piece: map characters to pieces.
    std::vector<std::size_t> piece_of_cjk;
    std::u32string piece_chars, text_chars;
    bool unknown = false;
    for (std::size_t i = 0; i < got.ids.size(); ++i) {
      if (got.ids[i] == chinese_wordpiece().special_ids().unk) unknown = true;
      const std::u32string cps = codepoints(chinese_wordpiece().id_to_token(got.ids[i]));
      if (cps.size() == 1 && bf::tok::unicode::is_cjk(cps[0])) {
        piece_of_cjk.push_back(i);
        piece_chars.push_back(cps[0]);
      }
    }
    for (char32_t cp : codepoints(sentence)) {
      if (bf::tok::unicode::is_cjk(cp)) text_chars.push_back(cp);
    }
    const auto continues = independent_icu_continues(sentence);
    if (unknown || piece_chars != text_chars) {
      ++sentences_skipped;  // [UNK] or a character the tokenizer normalised: not mapped here
      continue;
    }
    for (std::size_t k = 0; k < continues.size(); ++k) {
      // Every CJK piece starts a word exactly where ICU's iterator starts one.
      if (got.starts[piece_of_cjk[k]] != !continues[k]) ++starts_differing;
      if (continues[k]) continue;
      std::size_t end = k + 1;
      while (end < continues.size() && continues[end]) ++end;
      if (end - k < 2) continue;
      // A multi-character word: its first piece starts a word, the others continue it,
      // and the piece after it starts the next one.
      CHECK(got.starts[piece_of_cjk[k]] == 1);
      for (std::size_t j = k + 1; j < end; ++j) CHECK(got.starts[piece_of_cjk[j]] == 0);
      const std::size_t after = piece_of_cjk[end - 1] + 1;
      if (after < got.ids.size()) CHECK(got.starts[after] == 1);
      ++words_checked;
    }
  }
  CHECK(next == icu_shards.size());
  CHECK(starts_differing == 0);
  CHECK(words_checked > 10000);
  CHECK(sentences_skipped < static_cast<std::int64_t>(sentences.size()) / 10);
  CHECK(counters["unaligned_sentences"].get<std::int64_t>() < static_cast<std::int64_t>(sentences.size()) / 100);
}

TEST_CASE("segmentation: none is the old build (same key, same bytes); changing it rebuilds", "[segmentation]") {
  const std::string dir = temp_dir("seg_none");
  write_text(dir + "/zh.txt", cmrc_paragraphs(20));
  write_text(dir + "/without.yaml", "tokenizer: unused\ndata:\n  inputs: [{path: " + dir +
                                        "/zh.txt, format: paragraph}]\n  output: " + dir + "/out\n");
  write_text(dir + "/with.yaml", "tokenizer: unused\ndata:\n  inputs: [{path: " + dir +
                                     "/zh.txt, format: paragraph}]\n  output: " + dir +
                                     "/out\n  word_segmentation: none\n");
  const DataConfig without = read_data_build_config(dir + "/without.yaml").data;
  const DataConfig with = read_data_build_config(dir + "/with.yaml").data;
  CHECK(without.shard_identity() == with.shard_identity());
  CHECK(without.shard_identity().find("word_segmentation") == std::string::npos);
  CHECK_FALSE(build(without).skipped);
  const auto bytes = shard_bytes(dir + "/out");
  CHECK(build(with).skipped);  // the same build key: a build from before the key stays current
  CHECK_FALSE(build(with, true).skipped);
  CHECK(shard_bytes(dir + "/out") == bytes);

  DataConfig icu = with;
  icu.word_segmentation = "icu";
  CHECK_FALSE(build(icu).skipped);
  CHECK(shard_bytes(dir + "/out") != bytes);
  CHECK(build(icu).skipped);
  write_text(dir + "/words.txt", "北京大学附属医院\n");
  icu.user_words = dir + "/words.txt";
  CHECK_FALSE(build(icu).skipped);
  write_text(dir + "/words.txt", "北京大学附属医院\n阿司匹林\n");  // the lexicon's content is in the key
  CHECK_FALSE(build(icu).skipped);
}

namespace {

// What an external segmenter would write: the ICU words of each line joined by spaces.
std::string spaced_line(const std::string& line) {
  const std::u32string cps = codepoints(line);
  const auto s = segment(SegmentationMode::kIcu, line);
  std::u32string out;
  std::size_t k = 0;
  bool previous_cjk = false;
  for (char32_t cp : cps) {
    const bool cjk = bf::tok::unicode::is_cjk(cp);
    if (cjk && previous_cjk && !s.continues[k]) out.push_back(U' ');
    if (cjk) ++k;
    out.push_back(cp);
    previous_cjk = cjk;
  }
  return utf8(out);
}

// run_chinese_ref.py's output for the same segmentation: per non-empty line,
// the positions (with [CLS] at 0) of the Chinese pieces that continue a word.
std::string ref_line(const std::string& spaced) {
  const auto s = segment(SegmentationMode::kPretokenized, spaced);
  const auto e = chinese_wordpiece().encode(s.text);
  nlohmann::json positions = nlohmann::json::array();
  std::size_t k = 0;
  for (std::size_t i = 0; i < e.ids.size(); ++i) {
    const std::u32string cps = codepoints(chinese_wordpiece().id_to_token(e.ids[i]));
    if (cps.size() != 1 || !bf::tok::unicode::is_cjk(cps[0])) continue;
    if (s.continues[k++]) positions.push_back(i + 1);
  }
  return positions.dump();
}

}  // namespace

TEST_CASE("segmentation: pretokenized text and an HF ref file give byte-identical shards", "[segmentation]") {
  const std::string dir = temp_dir("seg_refs");
  const std::string raw = cmrc_paragraphs(60, /*skip_unknown=*/true);
  std::string spaced, refs;
  std::size_t begin = 0;
  while (begin < raw.size()) {
    const std::size_t end = raw.find('\n', begin);
    const std::string line = raw.substr(begin, end - begin);
    spaced += spaced_line(line) + "\n";
    if (!line.empty()) refs += ref_line(spaced_line(line)) + "\n";
    begin = end + 1;
  }
  write_text(dir + "/raw.txt", raw);
  write_text(dir + "/spaced.txt", spaced);
  write_text(dir + "/refs.txt", refs);

  DataConfig pretokenized = zh_config(dir + "/spaced.txt", dir + "/pretokenized", "pretokenized");
  DataConfig with_refs = zh_config(dir + "/raw.txt", dir + "/refs", "none");
  with_refs.word_refs = dir + "/refs.txt";
  pretokenized.shard_tokens = with_refs.shard_tokens = 8192;  // several shards
  const BuildResult a = build(pretokenized);
  const BuildResult b = build(with_refs);
  CHECK(b.manifest.segmentation["mode"] == "word_refs");
  CHECK(a.manifest.segmentation["words"] == b.manifest.segmentation["words"]);
  CHECK(a.manifest.segmentation["multi_char_words"].get<std::int64_t>() > 1000);
  const auto a_files = shard_bytes(dir + "/pretokenized");
  REQUIRE(a_files.size() >= 3);
  CHECK(a_files == shard_bytes(dir + "/refs"));
  // And the segmentation did something: the plain build differs.
  build(zh_config(dir + "/raw.txt", dir + "/plain", "none"));
  CHECK(a_files != shard_bytes(dir + "/plain"));
}

TEST_CASE("segmentation: bad input names the file and line, and no output is made or changed", "[segmentation]") {
  const std::string dir = temp_dir("seg_errors");
  write_text(dir + "/zh.txt", "我们在北京大学学习。\n\n  \n自然语言处理。\n");
  DataConfig config = zh_config(dir + "/zh.txt", dir + "/out", "icu");

  SECTION("a lexicon that is not UTF-8") {
    write_text(dir + "/words.txt", "# domain terms\n阿司匹林\n\xB1\xB1\xBE\xA9\n");  // GBK, not UTF-8
    config.user_words = dir + "/words.txt";
    CHECK_THAT(error_of([&] { build(config); }), Catch::Contains(dir + "/words.txt:3: not valid UTF-8"));
    CHECK(listing(dir).count(dir + "/out") == 0);
    CHECK(listing(dir).size() == 2);
  }
  SECTION("ref files: line count, non-integers, positions out of range or on non-Chinese pieces") {
    config.word_segmentation = "none";
    config.word_refs = dir + "/refs.txt";
    write_text(dir + "/refs.txt", "[2, 5]\n");  // the corpus has two non-empty lines
    CHECK_THAT(error_of([&] { build(config); }), Catch::Contains(dir + "/refs.txt:2: missing"));
    write_text(dir + "/refs.txt", "[2, 5]\n[2]\n[]\n");
    CHECK_THAT(error_of([&] { build(config); }), Catch::Contains(dir + "/refs.txt:3: one line more"));
    write_text(dir + "/refs.txt", "[2, 5]\n[2, \"3\"]\n");
    CHECK_THAT(error_of([&] { build(config); }), Catch::Contains(dir + "/refs.txt:2: \"3\" is not an integer"));
    write_text(dir + "/refs.txt", "[2, 5]\n[0]\n");
    CHECK_THAT(error_of([&] { build(config); }), Catch::Contains(dir + "/refs.txt:2: position 0 is out of range"));
    CHECK(listing(dir).count(dir + "/out") == 0);

    // A good build first: a failing rebuild must leave it as it was.
    write_text(dir + "/refs.txt", "[2, 5]\n[2]\n");
    REQUIRE_NOTHROW(build(config));
    const auto before = listing(dir);
    const auto bytes = shard_bytes(dir + "/out");
    write_text(dir + "/refs.txt", "[2, 5]\n[2, 40]\n");
    CHECK_THAT(error_of([&] { build(config); }),
               Catch::Contains(dir + "/refs.txt:2: position 40 is out of range for corpus line 4"));
    write_text(dir + "/refs.txt", "[2, 5]\n[7]\n");  // line 4's 7th piece is "。"
    CHECK_THAT(error_of([&] { build(config); }), Catch::Contains(dir + "/refs.txt:2: position 7") &&
                                                   Catch::Contains("not a single Chinese character"));
    auto after = listing(dir);
    after.erase(dir + "/refs.txt");
    auto expected = before;
    expected.erase(dir + "/refs.txt");
    CHECK(after == expected);
    CHECK(shard_bytes(dir + "/out") == bytes);
  }
  SECTION("a ref file needs exactly one input file") {
    write_text(dir + "/zh2.txt", "我们。\n");
    config.word_segmentation = "none";
    config.inputs = {{dir + "/zh*.txt", "google", ""}};
    write_text(dir + "/refs.txt", "[2]\n");
    config.word_refs = dir + "/refs.txt";
    CHECK_THAT(error_of([&] { build(config); }), Catch::Contains("data.word_refs") && Catch::Contains("match 2 files"));
  }
  SECTION("config errors name the key") {
    auto config_error = [&](const std::string& data_lines) {
      write_text(dir + "/c.yaml", "tokenizer: unused\ndata:\n  inputs: [" + dir + "/zh.txt]\n  output: " + dir +
                                      "/out\n" + data_lines);
      return error_of([&] { read_data_build_config(dir + "/c.yaml"); });
    };
    CHECK_THAT(config_error("  word_segmentation: jieba\n"),
               Catch::Contains("data.word_segmentation") && Catch::Contains("icu"));
    CHECK_THAT(config_error("  word_segmentation: icu\n  word_refs: r.txt\n"), Catch::Contains("data.word_refs"));
    CHECK_THAT(config_error("  user_words: w.txt\n"), Catch::Contains("data.user_words"));
    CHECK_THAT(error_of([&] {
                 DataConfig missing = config;
                 missing.user_words = dir + "/nowhere.txt";
                 build(missing);
               }),
               Catch::Contains("data.user_words") && Catch::Contains("nowhere.txt"));
  }
}
