// Extractive question answering without torch: SQuAD-layout reading, context
// pieces with their original bytes, run_squad windows, span decoding and the
// official SQuAD / CMRC 2018 metrics; and the pipeline on the real dev sets,
// where one-hot logits at the gold pieces must give exact match 100.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "../support/shared_data.h"
#include "finetune/qa/context_pieces.h"
#include "finetune/qa/qa_decode.h"
#include "finetune/qa/qa_features.h"
#include "finetune/qa/qa_metrics.h"
#include "finetune/qa/squad_reader.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

using namespace bf;
using namespace bf::ft::qa;
using Catch::Matchers::Contains;

namespace {

const tok::Tokenizer& uncased() {
  static const auto tokenizer = tok::load_wordpiece_vocab(test::shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"));
  return *tokenizer;
}

const tok::Tokenizer& chinese() {
  static const auto tokenizer = tok::load_wordpiece_vocab(test::shared_path("data/bert_vocab/bert-base-chinese-vocab.txt"));
  return *tokenizer;
}

std::string write_fixture(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir("qa") + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string slice(const std::string& text, ByteSpan span) { return text.substr(span.begin, span.end - span.begin); }

QaExample example_of(const std::string& question, const std::string& context, const std::string& answer = "",
                     std::size_t occurrence_from = 0) {
  QaExample example;
  example.id = "q";
  example.question = question;
  example.context = context;
  if (!answer.empty()) {
    example.answers.push_back(QaAnswer{answer, context.find(answer, occurrence_from), -1});
    example.gold_texts.push_back(answer);
  }
  return example;
}

// Zero logits for every window.
struct Logits {
  std::vector<std::vector<float>> start, end;
  explicit Logits(const std::vector<QaFeature>& features) {
    for (const QaFeature& f : features) {
      start.emplace_back(static_cast<std::size_t>(f.size()), 0.0f);
      end.emplace_back(static_cast<std::size_t>(f.size()), 0.0f);
    }
  }
};

// The position of context piece `piece` in window f, or -1.
int position_of(const QaFeature& f, int piece) {
  const int at = f.context_start + piece - f.context_offset;
  return at >= f.context_start && at < f.size() - 1 && piece >= f.context_offset ? at : -1;
}

}  // namespace

// ---------------------------------------------------------------------------
// Reader

TEST_CASE("squad reader: v1.1 answers become byte offsets, counted in characters", "[qa]") {
  const std::string json = R"({"version": "1.1", "data": [
    {"title": "Cafés", "paragraphs": [
      {"context": "Un café à Paris coûte 3 €, à Zürich 5 €.",
       "qas": [{"id": "a1", "question": "Where?", "answers": [{"text": "Zürich", "answer_start": 29}, {"text": "Paris", "answer_start": 10}]}]}]},
    {"title": "中文", "paragraphs": [
      {"context": "北京是中国的首都。", "qas": [{"id": 7, "question": "首都？", "answers": [{"text": "中国", "answer_start": 3}]}]}]}]})";
  const SquadData data = read_squad(write_fixture("v1.json", json), false);
  CHECK(data.version == "1.1");
  CHECK_FALSE(data.has_impossible);
  REQUIRE(data.examples.size() == 2);
  const QaExample& cafe = data.examples[0];
  CHECK(cafe.title == "Cafés");
  REQUIRE(cafe.answers.size() == 2);
  CHECK(cafe.answers[0].start == cafe.context.find("Zürich"));
  CHECK(cafe.answers[0].start != 29);  // "é", "à", "û", "€" are several bytes each
  CHECK(cafe.answers[0].char_start == 29);
  CHECK(cafe.answers[1].start == cafe.context.find("Paris"));
  CHECK(cafe.gold_texts == std::vector<std::string>{"Zürich", "Paris"});
  const QaExample& beijing = data.examples[1];
  CHECK(beijing.id == "7");  // integer ids read as text
  CHECK(beijing.answers[0].start == 9);
  CHECK(data.stats.relocated_answers == 0);
  CHECK(data.stats.questions == 2);
  CHECK(data.stats.answers == 3);
  CHECK(byte_offset_of_char("aé€b", 3) == 6);
  CHECK(byte_offset_of_char("aé€b", 4) == 7);
  CHECK(byte_offset_of_char("aé€b", 5) == std::string::npos);
}

TEST_CASE("squad reader: a wrong answer_start is moved to the nearest occurrence, absent texts are skipped", "[qa]") {
  const std::string json = R"({"data": [{"title": "t", "paragraphs": [
    {"context": "the cat saw the cat and the cat",
     "qas": [{"id": "near", "question": "?", "answers": [{"text": "cat", "answer_start": 14}]},
             {"id": "minus", "question": "?", "answers": [{"text": "cat", "answer_start": -1}]},
             {"id": "absent", "question": "?", "answers": [{"text": "dog", "answer_start": 0}]},
             {"id": "partly", "question": "?", "answers": [{"text": "dog", "answer_start": 0}, {"text": "saw", "answer_start": 8}]}]}]}]})";
  const std::string path = write_fixture("fix.json", json);
  SECTION("evaluation keeps every question and its gold texts") {
    const SquadData data = read_squad(path, false);
    REQUIRE(data.examples.size() == 4);
    CHECK(data.examples[0].answers[0].start == 16);  // 16 is 2 away from 14, 4 is 10 away
    CHECK(data.examples[1].answers[0].start == 4);   // -1 (CMRC's extra references): the first one
    CHECK(data.examples[2].answers.empty());
    CHECK(data.examples[2].gold_texts == std::vector<std::string>{"dog"});
    REQUIRE(data.examples[3].answers.size() == 1);
    CHECK(data.examples[3].answers[0].text == "saw");
    CHECK(data.stats.relocated_answers == 2);
    CHECK(data.stats.skipped_answers == 2);
    CHECK(data.stats.skipped_questions == 0);
    CHECK(data.stats.to_json()["skipped_answers"] == 2);
  }
  SECTION("training drops the question left without an answer") {
    const SquadData data = read_squad(path, true);
    REQUIRE(data.examples.size() == 3);
    CHECK(data.examples[2].id == "partly");
    CHECK(data.stats.skipped_questions == 1);
    CHECK(data.stats.questions == 4);
  }
}

TEST_CASE("squad reader: v2.0 is_impossible, plausible_answers ignored", "[qa]") {
  const std::string json = R"({"version": "v2.0", "data": [{"title": "t", "paragraphs": [
    {"context": "Normans came from Normandy.",
     "qas": [{"id": "yes", "question": "From?", "is_impossible": false, "answers": [{"text": "Normandy", "answer_start": 18}]},
             {"id": "no", "question": "When?", "is_impossible": true, "answers": [],
              "plausible_answers": [{"text": "Normans", "answer_start": 0}]}]}]}]})";
  for (bool training : {false, true}) {
    const SquadData data = parse_squad(json, "v2.json", training);
    CHECK(data.has_impossible);
    REQUIRE(data.examples.size() == 2);
    CHECK_FALSE(data.examples[0].is_impossible);
    CHECK(data.examples[1].is_impossible);
    CHECK(data.examples[1].answers.empty());
    CHECK(data.examples[1].gold_texts.empty());
    CHECK(data.stats.impossible_questions == 1);
    CHECK(data.stats.skipped_questions == 0);
  }
}

TEST_CASE("squad reader: bad files name the file and the key path", "[qa]") {
  auto parse = [](const std::string& json) { return error_of([&] { parse_squad(json, "dev.json", false); }); };
  const std::string ok_qa = R"({"id": "x", "question": "q", "answers": [{"text": "a", "answer_start": 0}]})";
  CHECK_THAT(error_of([] { read_squad("/nonexistent/dev.json", false); }), Contains("/nonexistent/dev.json"));
  CHECK_THAT(parse("{\"data\": ["), Contains("dev.json: not valid JSON"));
  CHECK_THAT(parse("[]"), Contains("dev.json: (root): must be an object"));
  CHECK_THAT(parse("{}"), Contains("dev.json: (root).data: is missing"));
  CHECK_THAT(parse(R"({"data": {}})"), Contains("dev.json: (root).data: must be an array"));
  CHECK_THAT(parse(R"({"data": [{"title": "t"}]})"), Contains("dev.json: data[0].paragraphs: is missing"));
  CHECK_THAT(parse(R"({"data": [{"paragraphs": [{"context": "a", "qas": []}, {"qas": []}]}]})"),
             Contains("dev.json: data[0].paragraphs[1].context: is missing"));
  CHECK_THAT(parse(R"({"data": [{"paragraphs": [{"context": "a", "qas": [)" + ok_qa + R"(, {"id": "y", "question": "q"}]}]}]})"),
             Contains("dev.json: data[0].paragraphs[0].qas[1].answers: is missing"));
  CHECK_THAT(parse(R"({"data": [{"paragraphs": [{"context": "a", "qas": [{"id": "x", "question": "q", "answers": [{"text": "a", "answer_start": "0"}]}]}]}]})"),
             Contains("dev.json: data[0].paragraphs[0].qas[0].answers[0].answer_start: must be an integer"));
  CHECK_THAT(parse(R"({"data": [{"paragraphs": [{"context": "a", "qas": [{"id": "x", "question": 5, "answers": []}]}]}]})"),
             Contains("dev.json: data[0].paragraphs[0].qas[0].question: must be a string"));
  CHECK_THAT(parse(R"({"data": [{"paragraphs": [{"context": "a", "qas": [)" + ok_qa + "," + ok_qa + "]}]}]}"),
             Contains("dev.json: data[0].paragraphs[0].qas[1].id: duplicate id \"x\" (also at data[0].paragraphs[0].qas[0])"));
  CHECK_THAT(parse(R"({"data": [{"paragraphs": [{"context": "a", "qas": [{"id": "x", "question": "q", "is_impossible": true, "answers": [{"text": "a", "answer_start": 0}]}]}]}]})"),
             Contains("dev.json: data[0].paragraphs[0].qas[0].answers: is_impossible is true"));
  CHECK_THAT(parse(R"({"data": [{"paragraphs": [{"context": "a", "qas": [{"id": "x", "question": "q", "is_impossible": 1, "answers": []}]}]}]})"),
             Contains("dev.json: data[0].paragraphs[0].qas[0].is_impossible: must be true or false"));
}

// ---------------------------------------------------------------------------
// Context pieces

TEST_CASE("context pieces: accents and case map back character by character", "[qa]") {
  const std::string context = "Café naïve Tokenization";
  const ContextPieces pieces = split_context(context, uncased());
  CHECK(pieces.ids == uncased().encode(context).ids);
  REQUIRE(pieces.words.size() == 3);
  CHECK(slice(context, pieces.words[1].span) == "naïve");
  std::vector<std::string> texts;
  for (ByteSpan span : pieces.spans) texts.push_back(slice(context, span));
  CHECK(texts == std::vector<std::string>{"Café", "naïve", "Token", "ization"});
  CHECK(uncased().id_to_token(pieces.ids[0]) == "cafe");
  CHECK(pieces.whole_word_fallbacks == 0);
  const auto naive = pieces.covering(ByteSpan{context.find("naïve"), context.find("naïve") + 6});
  REQUIRE(naive);
  CHECK(pieces.text(context, naive->first, naive->second) == "naïve");
  // An answer that begins inside a piece gets the whole piece.
  const auto inside = pieces.covering(ByteSpan{context.find("ken"), context.find("ken") + 3});
  REQUIRE(inside);
  CHECK(pieces.text(context, inside->first, inside->second) == "Token");
  CHECK_FALSE(pieces.covering(ByteSpan{5, 6}));  // the space between two words
}

TEST_CASE("context pieces: decomposed accents, dropped characters, unknown words", "[qa]") {
  SECTION("a combining accent belongs to the letter before it") {
    const std::string context = "Cafe\u0301 au lait";
    const ContextPieces pieces = split_context(context, uncased());
    CHECK(pieces.ids == uncased().encode(context).ids);
    CHECK(slice(context, pieces.spans[0]) == "Cafe\u0301");
  }
  SECTION("a soft hyphen (dropped, not a word break) stays inside the word's span only") {
    const std::string context = "soft\u00ADware";
    const ContextPieces pieces = split_context(context, uncased());
    CHECK(pieces.ids == uncased().encode(context).ids);
    REQUIRE(pieces.words.size() == 1);
    CHECK(slice(context, pieces.words[0].span) == context);
  }
  SECTION("[UNK] spans its whole word") {
    const std::string context = "smile \xF0\x9F\x98\x80 now";
    const ContextPieces pieces = split_context(context, uncased());
    REQUIRE(pieces.size() == 3);
    CHECK(pieces.ids[1] == uncased().special_ids().unk);
    CHECK(slice(context, pieces.spans[1]) == "\xF0\x9F\x98\x80");
  }
  SECTION("length-changing normalisation: İ lower-cases to two characters, Hangul decomposes to jamo") {
    const std::string context = "İstanbul 한국";
    const ContextPieces pieces = split_context(context, uncased());
    CHECK(pieces.ids == uncased().encode(context).ids);
    CHECK(slice(context, pieces.spans[0]) == "İstanbul");
    // Several jamo pieces come from one syllable: each spans that syllable.
    CHECK(pieces.size() > 3);
    CHECK(slice(context, pieces.spans[1]) == "한");
    CHECK(slice(context, pieces.spans.back()) == "국");
  }
  SECTION("words: whitespace separates, punctuation stands alone") {
    const std::string context = "  Hello, world!\n";
    std::vector<std::string> words;
    for (ByteSpan span : context_words(context, uncased())) words.push_back(slice(context, span));
    CHECK(words == std::vector<std::string>{"Hello", ",", "world", "!"});
  }
}

TEST_CASE("context pieces: Chinese without spaces, and mixed with English and digits", "[qa]") {
  SECTION("each CJK character is a word") {
    const std::string context = "我爱北京天安门";
    const ContextPieces pieces = split_context(context, chinese());
    CHECK(pieces.ids == chinese().encode(context).ids);
    REQUIRE(pieces.size() == 7);
    for (std::size_t i = 0; i < 7; ++i) CHECK(pieces.spans[i] == ByteSpan{3 * i, 3 * i + 3});
    const auto answer = pieces.covering(ByteSpan{6, 15});
    REQUIRE(answer);
    CHECK(pieces.text(context, answer->first, answer->second) == "北京天");
  }
  SECTION("2018年的BERT模型") {
    const std::string context = "2018年的BERT模型";
    const ContextPieces pieces = split_context(context, chinese());
    CHECK(pieces.ids == chinese().encode(context).ids);
    std::vector<std::string> words;
    for (const ContextWord& word : pieces.words) words.push_back(slice(context, word.span));
    CHECK(words == std::vector<std::string>{"2018", "年", "的", "BERT", "模", "型"});
    std::vector<std::string> texts;
    for (ByteSpan span : pieces.spans) texts.push_back(slice(context, span));
    CHECK(texts == std::vector<std::string>{"2018", "年", "的", "BE", "RT", "模", "型"});  // be ##rt
    for (const std::string answer : {"BERT模型", "2018年", "的BERT", "RT模"}) {
      const auto span = pieces.covering(ByteSpan{context.find(answer), context.find(answer) + answer.size()});
      REQUIRE(span);
      CHECK(pieces.text(context, span->first, span->second) == answer);
    }
  }
}

// ---------------------------------------------------------------------------
// Windows

namespace {

// "w1 w2 ... wN": distinct words of known pieces.
std::string numbered_context(int words) {
  std::string context;
  for (int i = 1; i <= words; ++i) context += (i > 1 ? " " : "") + std::to_string(i);
  return context;
}

}  // namespace

TEST_CASE("windows: run_squad's stride, layout and max-context", "[qa]") {
  const std::string context = numbered_context(150);
  const ContextPieces pieces = split_context(context, uncased());
  const int n = static_cast<int>(pieces.size());
  REQUIRE(n >= 150);
  QaFeatureOptions options;
  options.max_seq_length = 40;
  options.doc_stride = 12;
  options.max_query_length = 8;
  const QaExample example = example_of("how many numbers are there", context);
  std::vector<QaFeature> features;
  QaFeatureStats stats;
  example_features(example, 0, pieces, uncased(), options, false, features, &stats);
  const int query = static_cast<int>(uncased().encode(example.question).ids.size());
  const int room = options.max_seq_length - query - 3;
  // The expected windows, from run_squad's loop.
  std::vector<std::pair<int, int>> expected;
  for (int start = 0;; start += std::min(room, options.doc_stride)) {
    expected.emplace_back(start, std::min(room, n - start));
    if (start + room >= n) break;
  }
  REQUIRE(features.size() == expected.size());
  CHECK(stats.windows == static_cast<int>(expected.size()));
  const auto special = uncased().special_ids();
  for (std::size_t w = 0; w < features.size(); ++w) {
    const QaFeature& f = features[w];
    const auto [first, count] = expected[w];
    CHECK(f.window_index == static_cast<int>(w));
    CHECK(f.context_offset == first);
    CHECK(f.context_start == query + 2);
    REQUIRE(f.size() == query + count + 3);
    CHECK(f.size() <= options.max_seq_length);
    CHECK(f.input_ids.front() == special.cls);
    CHECK(f.input_ids[static_cast<std::size_t>(query + 1)] == special.sep);
    CHECK(f.input_ids.back() == special.sep);
    CHECK(std::vector<std::int32_t>(f.input_ids.begin() + f.context_start, f.input_ids.end() - 1) ==
          std::vector<std::int32_t>(pieces.ids.begin() + first, pieces.ids.begin() + first + count));
    CHECK(std::accumulate(f.token_type_ids.begin(), f.token_type_ids.end(), 0) == count + 1);
    CHECK(f.token_type_ids[static_cast<std::size_t>(f.context_start)] == 1);
    CHECK(f.token_type_ids[static_cast<std::size_t>(f.context_start - 1)] == 0);
    CHECK(std::accumulate(f.attention_mask.begin(), f.attention_mask.end(), 0) == f.size());
    for (int i = 0; i < f.size(); ++i) {
      const bool in_context = i >= f.context_start && i < f.size() - 1;
      CHECK(f.offsets[static_cast<std::size_t>(i)].has_value() == in_context);
      if (in_context) CHECK(*f.offsets[static_cast<std::size_t>(i)] == pieces.spans[static_cast<std::size_t>(first + i - f.context_start)]);
      if (!in_context) CHECK(f.is_max_context[static_cast<std::size_t>(i)] == 0);
    }
  }
  CHECK(expected.back().first + expected.back().second == n);  // the last window reaches the end
  // Every context piece has exactly one window that owns it.
  std::vector<int> owners(static_cast<std::size_t>(n), 0);
  for (const QaFeature& f : features)
    for (int i = f.context_start; i < f.size() - 1; ++i)
      owners[static_cast<std::size_t>(f.context_offset + i - f.context_start)] += f.is_max_context[static_cast<std::size_t>(i)];
  CHECK(std::count(owners.begin(), owners.end(), 1) == n);
}

TEST_CASE("windows: Google's max-context example and rule", "[qa]") {
  // run_squad.py's docstring: A = "the man went to the", B = "to the store
  // and bought", C = "and bought a gallon of"; "bought" (piece 7) has 4 left
  // and 0 right in B, 1 left and 3 right in C: C owns it.
  const std::vector<std::pair<int, int>> windows = {{0, 5}, {3, 5}, {6, 5}};
  CHECK_FALSE(is_max_context(windows, 1, 7));
  CHECK(is_max_context(windows, 2, 7));
  CHECK(is_max_context(windows, 0, 0));
  CHECK_FALSE(is_max_context(windows, 1, 2));  // not in B at all
  // Equal scores: the first window wins.
  CHECK(is_max_context({{0, 4}, {2, 4}}, 0, 2) != is_max_context({{0, 4}, {2, 4}}, 1, 2));
}

TEST_CASE("windows: training positions of the answer, 0 where the window lacks it", "[qa]") {
  const std::string context = numbered_context(120);
  QaFeatureOptions options;
  options.max_seq_length = 48;
  options.doc_stride = 16;
  options.max_query_length = 4;
  const ContextPieces pieces = split_context(context, uncased());
  // The answer: three pieces starting at the last piece of the first window,
  // so that window cuts it and the next one holds it.
  const QaFeatureSet layout = build_features({example_of("which numbers", context)}, uncased(), options, false);
  const QaFeature& first_window = layout.features.at(0);
  const int edge = first_window.size() - 2 - first_window.context_start;
  const auto edge_piece = static_cast<std::size_t>(edge);
  const std::string answer_text = context.substr(pieces.spans[edge_piece].begin,
                                                 pieces.spans[edge_piece + 2].end - pieces.spans[edge_piece].begin);
  const QaExample example = example_of("which numbers", context, answer_text);
  const auto answer = pieces.covering(ByteSpan{example.answers[0].start, example.answers[0].start + answer_text.size()});
  REQUIRE(answer);
  REQUIRE(answer->first == edge);
  REQUIRE(answer->second == edge + 2);
  const QaFeatureSet set = build_features({example}, uncased(), options, true);
  REQUIRE(set.features.size() > 3);
  int holding = 0;
  for (const QaFeature& f : set.features) {
    const int start = position_of(f, answer->first), end = position_of(f, answer->second);
    if (start >= 0 && end >= 0) {
      ++holding;
      CHECK(f.start_position == start);
      CHECK(f.end_position == end);
      CHECK(f.input_ids[static_cast<std::size_t>(start)] == pieces.ids[edge_piece]);
      CHECK(slice(context, ByteSpan{f.offsets[static_cast<std::size_t>(start)]->begin,
                                    f.offsets[static_cast<std::size_t>(end)]->end}) == answer_text);
    } else {
      CHECK(f.start_position == 0);
      CHECK(f.end_position == 0);
    }
  }
  CHECK(holding >= 1);
  CHECK(set.stats.windows_without_answer == static_cast<int>(set.features.size()) - holding);
  // The first window holds the answer's first piece only: [CLS].
  CHECK(position_of(set.features[0], answer->first) >= 0);
  CHECK(position_of(set.features[0], answer->second) < 0);
  CHECK(set.features[0].start_position == 0);
  CHECK(set.features[1].start_position > 0);

  SECTION("impossible questions point at [CLS] in every window") {
    QaExample impossible = example_of("which numbers", context);
    impossible.is_impossible = true;
    for (const QaFeature& f : build_features({impossible}, uncased(), options, true).features) {
      CHECK(f.start_position == 0);
      CHECK(f.end_position == 0);
    }
  }
}

TEST_CASE("windows: long questions are cut, bad options are refused", "[qa]") {
  QaFeatureOptions options;
  options.max_query_length = 3;
  options.max_seq_length = 16;
  const QaFeatureSet set = build_features({example_of("one two three four five", "a short context")}, uncased(), options, false);
  REQUIRE(set.features.size() == 1);
  CHECK(set.features[0].context_start == 5);
  CHECK(set.stats.truncated_questions == 1);
  QaFeatureOptions bad;
  bad.max_seq_length = 66;
  CHECK_THAT(error_of([&] { check_options(bad); }), Contains("max_seq_length 66 leaves no room"));
  bad = {};
  bad.doc_stride = 0;
  CHECK_THAT(error_of([&] { check_options(bad); }), Contains("doc_stride must be >= 1"));
  // An empty context still gets one window (and a prediction).
  const QaFeatureSet empty = build_features({example_of("q", "")}, uncased(), {}, false);
  REQUIRE(empty.features.size() == 1);
  CHECK(empty.features[0].size() == 4);
}

// ---------------------------------------------------------------------------
// Decoding

namespace {

struct Decoded {
  std::vector<QaExample> examples;
  QaFeatureSet set;
  std::unique_ptr<Logits> logits;
};

Decoded windows_of(const std::string& question, const std::string& context, QaFeatureOptions options = {}) {
  Decoded d;
  d.examples.push_back(example_of(question, context));
  d.set = build_features(d.examples, uncased(), options, false);
  d.logits = std::make_unique<Logits>(d.set.features);
  return d;
}

// Window f's position of the first piece of the text at byte `at`.
int position_at(const QaFeature& f, std::size_t at) {
  for (int i = f.context_start; i < f.size() - 1; ++i)
    if (f.offsets[static_cast<std::size_t>(i)]->begin == at) return i;
  return -1;
}

}  // namespace

TEST_CASE("decode: constructed logits pick the intended span", "[qa]") {
  const std::string context = "The Denver Broncos defeated the Carolina Panthers 24-10 in Super Bowl 50.";
  Decoded d = windows_of("Who won Super Bowl 50?", context);
  REQUIRE(d.set.features.size() == 1);
  const QaFeature& f = d.set.features[0];
  const int start = position_at(f, context.find("Denver"));
  const int end = position_at(f, context.find("Broncos"));
  REQUIRE(start > 0);
  REQUIRE(end > start);
  d.logits->start[0][static_cast<std::size_t>(start)] = 5.0f;
  d.logits->end[0][static_cast<std::size_t>(end)] = 4.0f;
  const auto predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end);
  REQUIRE(predictions.size() == 1);
  CHECK(predictions[0].text == "Denver Broncos");
  CHECK(predictions[0].nbest.front().text == "Denver Broncos");
  CHECK(predictions[0].nbest.front().start_logit == 5.0f);
  double total = 0.0;
  std::map<std::string, int> seen;
  for (const QaCandidate& c : predictions[0].nbest) {
    total += c.probability;
    CHECK(++seen[c.text] == 1);  // no text twice
  }
  CHECK(total == Approx(1.0));
  CHECK(predictions[0].nbest.size() <= 20);
  CHECK(predictions[0].nbest[0].probability > predictions[0].nbest[1].probability);

  const auto json = predictions_json(predictions);
  CHECK(json == nlohmann::json{{"q", "Denver Broncos"}});
  const auto nbest = nbest_json(predictions);
  CHECK(nbest["q"][0]["text"] == "Denver Broncos");
  CHECK(nbest["q"][0].contains("probability"));
  CHECK(nbest["q"][0]["start_logit"] == 5.0);
}

TEST_CASE("decode: illegal spans are never chosen", "[qa]") {
  const std::string context = "Paris is the capital and largest city of France.";
  Decoded d = windows_of("What is the capital of France?", context);
  QaFeature& f = d.set.features[0];
  auto& start = d.logits->start[0];
  auto& end = d.logits->end[0];
  const auto at = [&](const char* word) { return static_cast<std::size_t>(position_at(f, context.find(word))); };
  // Every other position far below, so that only the spans set here compete.
  std::fill(start.begin(), start.end(), -10.0f);
  std::fill(end.begin(), end.end(), -10.0f);
  // The legal answer, with modest logits.
  start[at("Paris")] = 1.0f;
  end[at("Paris")] = 1.0f;
  // Higher: spans that start or end in the question, at [CLS] (v1 has no
  // null answer) or at a [SEP].
  start[2] = 9.0f;                                            // a question piece
  end[static_cast<std::size_t>(f.context_start - 1)] = 9.0f;  // the middle [SEP]
  start[0] = 8.0f;
  end[0] = 8.0f;
  end[static_cast<std::size_t>(f.size() - 1)] = 7.0f;  // the final [SEP]
  auto predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end);
  CHECK(predictions[0].text == "Paris");
  // An end before its start is no span: (France, capital) = 13 loses to
  // (Paris, capital) = 8.
  start[at("France")] = 6.0f;
  end[at("France")] = 0.0f;
  end[at("capital")] = 7.0f;
  predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end);
  CHECK(predictions[0].text == "Paris is the capital");
  for (const QaCandidate& c : predictions[0].nbest) CHECK_FALSE((c.start_logit == 6.0f && c.end_logit == 7.0f));
  // Too long: "Paris is the capital" is 4 pieces; (France, France) = 6 + 0 is next.
  QaDecodeOptions short_answers;
  short_answers.max_answer_length = 3;
  predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end, short_answers);
  CHECK(predictions[0].text == "France");
  for (const QaCandidate& c : predictions[0].nbest) CHECK(c.text.find('?') == std::string::npos);

  SECTION("logits of the wrong shape are refused") {
    auto wrong = d.logits->start;
    wrong[0].pop_back();
    CHECK_THAT(error_of([&] { decode_predictions(d.examples, d.set.features, wrong, d.logits->end); }),
               Contains("window 0 (question q) has"));
  }
}

TEST_CASE("decode: the best span over windows, starting only where its window has the most context", "[qa]") {
  const std::string context = numbered_context(120);
  QaFeatureOptions options;
  options.max_seq_length = 48;
  options.doc_stride = 16;
  options.max_query_length = 4;
  Decoded d = windows_of("which", context, options);
  REQUIRE(d.set.features.size() > 3);
  const std::size_t target = context.find(" 70 ") + 1;
  // Give "70" a high start logit in every window that holds it, and "72" a
  // high end logit; only the window that owns "70" may use the start.
  int owners = 0;
  for (std::size_t w = 0; w < d.set.features.size(); ++w) {
    const QaFeature& f = d.set.features[w];
    const int s = position_at(f, target);
    const int e = position_at(f, context.find(" 72 ") + 1);
    if (s < 0 || e < 0) continue;
    owners += f.is_max_context[static_cast<std::size_t>(s)];
    d.logits->start[w][static_cast<std::size_t>(s)] = f.is_max_context[static_cast<std::size_t>(s)] ? 3.0f : 10.0f;
    d.logits->end[w][static_cast<std::size_t>(e)] = 3.0f;
  }
  REQUIRE(owners == 1);
  const auto predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end);
  CHECK(predictions[0].text == "70 71 72");
  CHECK(predictions[0].nbest[0].start_logit == 3.0f);
}

TEST_CASE("decode: SQuAD v2.0 null score and threshold", "[qa]") {
  const std::string context = numbered_context(120);
  QaFeatureOptions options;
  options.max_seq_length = 48;
  options.doc_stride = 16;
  options.max_query_length = 4;
  Decoded d = windows_of("which", context, options);
  const std::size_t windows = d.set.features.size();
  REQUIRE(windows > 2);
  // The answer "5 6" in window 0 with score 2 + 2 = 4; null scores per window 5, 3.5, 6, ...
  const QaFeature& f0 = d.set.features[0];
  d.logits->start[0][static_cast<std::size_t>(position_at(f0, context.find("5 6")))] = 2.0f;
  d.logits->end[0][static_cast<std::size_t>(position_at(f0, context.find("6 7")))] = 2.0f;
  for (std::size_t w = 0; w < windows; ++w) {
    d.logits->start[w][0] = 3.0f;
    d.logits->end[w][0] = w == 1 ? 0.5f : 3.0f;
  }
  QaDecodeOptions v2;
  v2.version_2_with_negative = true;
  auto predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end, v2);
  CHECK(predictions[0].null_score == Approx(3.5));  // the minimum over windows
  CHECK(predictions[0].best_span_score == Approx(4.0));
  CHECK(predictions[0].null_score_diff == Approx(-0.5));
  CHECK(predictions[0].text == "5 6");  // -0.5 <= 0.0
  bool has_null = false;
  for (const QaCandidate& c : predictions[0].nbest) has_null |= c.text.empty();
  CHECK(has_null);
  CHECK(null_odds_json(predictions)["q"] == Approx(-0.5));
  v2.null_score_diff_threshold = -1.0;
  predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end, v2);
  CHECK(predictions[0].text.empty());
  // Without v2 the null answer is not a candidate.
  predictions = decode_predictions(d.examples, d.set.features, d.logits->start, d.logits->end);
  CHECK(predictions[0].text == "5 6");
  for (const QaCandidate& c : predictions[0].nbest) CHECK_FALSE(c.text.empty());
}

// ---------------------------------------------------------------------------
// Metrics

TEST_CASE("SQuAD metric: normalisation, best over gold answers, empty answers", "[qa]") {
  CHECK(squad_normalize("The  Quick, brown fox!") == "quick brown fox");
  CHECK(squad_normalize("An apple a day; the theater") == "apple day theater");  // "theater" keeps its "the"
  CHECK(squad_normalize("a-an-the") == "aanthe");  // punctuation goes first: no article is left at a boundary
  CHECK(squad_normalize("“The” end") == "“ ” end");  // curly quotes are not ASCII punctuation, but word boundaries
  CHECK(squad_normalize("ΣΑΣ") == "σας");  // Python's lower(): final sigma
  CHECK(squad_exact_match("the Denver Broncos", "Denver Broncos."));
  CHECK_FALSE(squad_exact_match("naïve", "naive"));  // the script does not strip accents
  CHECK(squad_f1("the cat sat", "cat sat on the mat") == Approx(2.0 * 1.0 * 0.5 / 1.5));
  CHECK(squad_f1("cat cat", "cat") == Approx(2.0 * 0.5 * 1.0 / 1.5));  // token counts, not sets
  CHECK(squad_f1("dog", "cat") == 0.0);
  CHECK(squad_f1("", "cat") == 0.0);
  CHECK(squad_f1("", "") == 1.0);
  CHECK(squad_f1("!", "the") == 1.0);  // both normalise to nothing

  std::vector<QaExample> examples(4);
  examples[0].id = "multi";
  examples[0].gold_texts = {"Denver Broncos", "the Broncos", "Broncos"};
  examples[1].id = "partial";
  examples[1].gold_texts = {"Carolina Panthers"};
  examples[2].id = "punct";
  examples[2].gold_texts = {"!!!"};  // normalises to nothing: a no-answer question, as in v2.0's script
  examples[3].id = "none";           // v2.0 is_impossible
  for (auto& e : examples) e.context = "English context";
  const nlohmann::json predictions = {{"multi", "Broncos"}, {"partial", "Panthers"}, {"punct", ""}, {"none", "x"}};
  const QaScore score = score_predictions(examples, predictions, QaMetric::Squad);
  CHECK(score.total == 4);
  CHECK(score.exact_match == Approx(50.0));
  CHECK(score.f1 == Approx(100.0 * (1.0 + 2.0 / 3.0 + 1.0 + 0.0) / 4.0));
  CHECK(score.has_answer == 3);
  CHECK(score.no_answer == 1);
  CHECK(score.no_answer_exact_match == 0.0);
  const auto json = score.to_json();
  CHECK(json["metric"] == "squad");
  CHECK(json["has_answer"]["total"] == 3);
  CHECK(json.contains("exact_match"));

  const QaScore missing = score_predictions(examples, nlohmann::json{{"multi", "Denver Broncos"}}, QaMetric::Squad);
  CHECK(missing.missing == 3);
  CHECK(missing.exact_match == Approx(25.0));
  CHECK_THAT(error_of([&] { score_predictions(examples, nlohmann::json{{"multi", 3}}, QaMetric::Squad); }),
             Contains("predictions: \"multi\": must be a string"));
  CHECK_THAT(error_of([&] { score_predictions(examples, nlohmann::json::array(), QaMetric::Squad); }),
             Contains("must be a JSON object"));
}

TEST_CASE("CMRC 2018 metric: mixed segmentation, its punctuation list, longest common substring F1", "[qa]") {
  CHECK(cmrc_segment("北京, Beijing 2008年", true) ==
        std::vector<std::string>{"北", "京", ",", "beijing", "2008", "年"});  // "," is not on the script's list
  CHECK(cmrc_segment("《战国无双3》", false) == std::vector<std::string>{"《", "战", "国", "无", "双", "3", "》"});
  CHECK(cmrc_segment("《战国无双3》", true) == std::vector<std::string>{"战", "国", "无", "双", "3"});
  CHECK(cmrc_segment("ω-force", true) == std::vector<std::string>{"ωforce"});  // a removed mark does not split a run
  CHECK(cmrc_remove_punctuation(" 《NBA》总冠军。 ") == "nba总冠军");
  CHECK(cmrc_remove_punctuation("等等……") == "等等……");  // the script's "……" never matches one character
  CHECK(cmrc_exact_match("《战国无双3》", "战国无双3"));
  CHECK(cmrc_exact_match("NBA总冠军", "nba总冠军"));
  CHECK_FALSE(cmrc_exact_match("光荣和ω force", "光荣和ω-force"));
  CHECK(cmrc_f1("天安门广场", "北京天安门") == Approx(0.6));  // 天安门: 3 of 5 on both sides
  CHECK(cmrc_f1("门安天", "天安门") == Approx(1.0 / 3.0));    // a common substring, not a bag of characters
  CHECK(squad_f1("门 安 天", "天 安 门") == Approx(1.0));
  CHECK(cmrc_f1("在NBA总冠军赛", "NBA总冠军") == Approx(2.0 * (4.0 / 6.0) * 1.0 / (4.0 / 6.0 + 1.0)));
  CHECK(cmrc_f1("", "北京") == 0.0);
  CHECK(cmrc_f1("。", "。") == 0.0);  // as the script: nothing left, no common run

  std::vector<QaExample> examples(2);
  examples[0].id = "a";
  examples[0].context = "《战国无双3》是由光荣和ω-force合作开发的。";
  examples[0].gold_texts = {"光荣和ω-force", "光荣和ω-force。"};
  examples[1].id = "b";
  examples[1].context = examples[0].context;
  examples[1].gold_texts = {"战国无双3"};
  CHECK(resolve_metric(QaMetric::Auto, examples) == QaMetric::Cmrc);
  const QaScore score = score_predictions(examples, nlohmann::json{{"a", "光荣和ω-force"}, {"b", "无双"}});
  CHECK(score.metric == QaMetric::Cmrc);
  CHECK(score.exact_match == Approx(50.0));
  CHECK(score.f1 == Approx(100.0 * (1.0 + 2.0 * 0.4 / 1.4) / 2.0));  // 无双: p 1, r 2/5
  CHECK(parse_qa_metric("cmrc") == QaMetric::Cmrc);
  CHECK_THAT(error_of([] { parse_qa_metric("bleu"); }), Contains("squad, cmrc or auto"));
  examples[0].context = "An English context with one 中 character.";
  examples[1].context = examples[0].context;
  CHECK(resolve_metric(QaMetric::Auto, examples) == QaMetric::Squad);
}

// ---------------------------------------------------------------------------
// The pipeline on real data

namespace {

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\n\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\n\r") - begin + 1);
}

struct PipelineResult {
  SquadData data;
  QaFeatureStats feature_stats;
  int planted = 0;              // questions given one-hot logits at a gold answer
  int no_exact_gold = 0;        // questions none of whose gold answers is a whole-piece span
  int inexact_answers = 0;      // gold answers whose covering pieces hold more than their text
  int longer_than_30 = 0;       // planted answers of more than max_answer_length (30) pieces
  int byte_exact = 0;           // predictions equal to the planted gold text, byte for byte
  int contexts = 0;
  int encode_mismatches = 0;    // contexts whose pieces differ from tokenizer.encode(context)
  int whole_word_fallbacks = 0;
  QaScore planted_score;        // over the planted questions
  QaScore score;                // over all questions
};

// One-hot logits at the gold start and end pieces, in the window where the
// start piece has its maximum context; decoded, the prediction must be the
// gold text exactly.
PipelineResult run_pipeline(const std::string& path, const tok::Tokenizer& tokenizer, QaMetric expected_metric) {
  PipelineResult r;
  r.data = read_squad(path, false);
  const std::vector<QaExample>& examples = r.data.examples;
  const QaFeatureSet set = build_features(examples, tokenizer, QaFeatureOptions{}, false);
  r.feature_stats = set.stats;
  Logits logits(set.features);
  std::vector<std::vector<std::size_t>> windows(examples.size());
  for (std::size_t f = 0; f < set.features.size(); ++f) windows[set.features[f].example_index].push_back(f);

  std::vector<QaExample> planted_examples;
  std::map<std::string, std::string> planted_text;
  const std::string* split_for = nullptr;
  ContextPieces pieces;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const QaExample& example = examples[i];
    if (split_for == nullptr || *split_for != example.context) {
      pieces = split_context(example.context, tokenizer);
      split_for = &example.context;
      ++r.contexts;
      r.encode_mismatches += pieces.ids != tokenizer.encode(example.context).ids;
      r.whole_word_fallbacks += pieces.whole_word_fallbacks;
    }
    std::optional<std::pair<int, int>> chosen;
    for (const QaAnswer& answer : example.answers) {
      const auto span = pieces.covering(ByteSpan{answer.start, answer.start + answer.text.size()});
      if (!span) continue;
      if (std::string(pieces.text(example.context, span->first, span->second)) != trimmed(answer.text)) {
        ++r.inexact_answers;
        continue;
      }
      if (!chosen) {
        chosen = span;
        planted_text[example.id] = trimmed(answer.text);
      }
    }
    if (!chosen) {
      ++r.no_exact_gold;
      continue;
    }
    bool placed = false;
    for (std::size_t f : windows[i]) {
      const QaFeature& feature = set.features[f];
      const int start = position_of(feature, chosen->first), end = position_of(feature, chosen->second);
      if (start < 0 || end < 0 || !feature.is_max_context[static_cast<std::size_t>(start)]) continue;
      logits.start[f][static_cast<std::size_t>(start)] = 1.0f;
      logits.end[f][static_cast<std::size_t>(end)] = 1.0f;
      placed = true;
      break;
    }
    REQUIRE(placed);  // the window that owns the start also holds the end
    r.longer_than_30 += chosen->second - chosen->first + 1 > 30;
    ++r.planted;
    planted_examples.push_back(example);
  }
  QaDecodeOptions options;
  options.max_answer_length = 384;  // the planted spans, however long
  const auto predictions = decode_predictions(examples, set.features, logits.start, logits.end, options);
  for (const QaPrediction& p : predictions) {
    const auto it = planted_text.find(p.id);
    r.byte_exact += it != planted_text.end() && it->second == p.text;
  }
  const nlohmann::json json = predictions_json(predictions);
  r.score = score_predictions(examples, json, QaMetric::Auto);
  r.planted_score = score_predictions(planted_examples, json, QaMetric::Auto);
  CHECK(r.score.metric == expected_metric);
  return r;
}

}  // namespace

TEST_CASE("pipeline: all of SQuAD v1.1 dev, windows and offsets exact (EM 100)", "[qa][pipeline]") {
  const PipelineResult r = run_pipeline(test::shared_path("data/squad_v1.1/dev-v1.1.json"), uncased(), QaMetric::Squad);
  INFO(r.data.stats.to_json().dump() << " " << r.feature_stats.to_json().dump() << " " << r.score.to_json().dump());
  CHECK(r.data.stats.questions == 10570);
  CHECK(r.data.stats.answers == 34726);
  CHECK(r.data.stats.relocated_answers == 0);
  CHECK(r.data.stats.skipped_answers == 0);
  CHECK(r.feature_stats.windows > r.feature_stats.examples);  // some contexts need several windows
  CHECK(r.contexts == 2067);
  CHECK(r.encode_mismatches == 0);
  CHECK(r.whole_word_fallbacks == 0);
  // Gold answers that begin or end inside a word piece ("£2" "##0" for
  // "20,980", "fourth" for "four"): no span of pieces is exactly them.
  CHECK(r.inexact_answers == 77);
  // "Tesla was the fourth of five children": all three golds are "four".
  CHECK(r.no_exact_gold == 1);
  CHECK(r.planted == 10569);
  CHECK(r.byte_exact == r.planted);
  CHECK(r.planted_score.total == r.planted);
  CHECK(r.planted_score.exact_match == 100.0);
  CHECK(r.planted_score.f1 == 100.0);
  CHECK(r.score.exact_match == Approx(100.0 * 10569 / 10570));
}

TEST_CASE("pipeline: all of CMRC 2018 dev with the Chinese vocabulary, exact (EM 100)", "[qa][pipeline]") {
  const PipelineResult r =
      run_pipeline(test::shared_path("data/cmrc2018/cmrc2018_dev.json"), chinese(), QaMetric::Cmrc);
  INFO(r.data.stats.to_json().dump() << " " << r.feature_stats.to_json().dump() << " " << r.score.to_json().dump());
  CHECK(r.data.stats.questions == 3219);
  CHECK(r.data.stats.answers == 9657);
  // The shared README: 7 answer_start values off by one; 193 extra references
  // (answer_start -1) whose text is not in the context (an added "。").
  CHECK(r.data.stats.relocated_answers == 7);
  CHECK(r.data.stats.skipped_answers == 193);
  CHECK(r.contexts == 848);
  CHECK(r.encode_mismatches == 0);
  CHECK(r.whole_word_fallbacks == 0);
  CHECK(r.inexact_answers == 3);  // "4个" in "34个", "30米" in "4530米"
  CHECK(r.no_exact_gold == 0);
  CHECK(r.planted == 3219);
  CHECK(r.byte_exact == r.planted);
  CHECK(r.planted_score.exact_match == 100.0);
  CHECK(r.planted_score.f1 == 100.0);
  CHECK(r.score.exact_match == 100.0);
}
