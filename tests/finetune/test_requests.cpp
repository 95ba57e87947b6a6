#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/reference_model_dirs.h"
#include "../support/shared_data.h"
#include "finetune/classify/classify_requests.h"
#include "finetune/qa/qa_requests.h"
#include "finetune/qa/squad_reader.h"
#include "finetune/tagging/tag_requests.h"
#include "finetune/tasks.h"
#include "infer/batches.h"
#include "infer/job.h"
#include "infer/request_error.h"
#include "tokenizer/word_split.h"

// Typed requests of every head against what predict writes for the same
// inputs, on HF's tiny reference models (no training): the same labels, tags
// and answers, the same scores; a request's answers do not depend on what
// else is in its batch; every client mistake names its field.

using namespace bf;
using Catch::Matchers::Contains;

namespace {

// Python's text[start:end] on UTF-8 text.
std::string code_point_slice(const std::string& text, std::int64_t start, std::int64_t end) {
  const auto begin = ft::qa::byte_offset_of_char(text, start), stop = ft::qa::byte_offset_of_char(text, end);
  REQUIRE(begin != std::string::npos);
  REQUIRE(stop != std::string::npos);
  return text.substr(begin, stop - begin);
}

std::vector<nlohmann::json> jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : test::file_lines(path))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::vector<std::string> sst_sentences(std::size_t n) {
  const auto lines = test::file_lines(test::shared_path("data/sst2/dev.tsv"));
  std::vector<std::string> out;
  for (std::size_t i = 1; i <= n; ++i) out.push_back(lines[i].substr(0, lines[i].find('\t')));
  return out;
}

// The label -> score map of one answer.
std::map<std::string, double> score_map(const ft::classify::ClassifyAnswer& answer) {
  std::map<std::string, double> out;
  for (const auto& s : answer) out[s.label] = s.score;
  return out;
}

void check_sorted(const ft::classify::ClassifyAnswer& answer) {
  for (std::size_t k = 1; k < answer.size(); ++k) CHECK(answer[k - 1].score >= answer[k].score);
}

// `body` fails with a RequestError of `kind` naming `field`.
void check_rejected(infer::Model& model, const nlohmann::json& body, const std::string& field,
                    infer::RequestError::Kind kind = infer::RequestError::Kind::Invalid,
                    const ft::RequestLimits& limits = {}) {
  INFO(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  try {
    ft::model_request(model, body, limits);
    FAIL("accepted");
  } catch (const infer::RequestError& e) {
    INFO(e.what());
    CHECK(e.field() == field);
    CHECK(e.kind() == kind);
  }
}

}  // namespace

TEST_CASE("split_words: BERT's words as spans of the original text", "[requests]") {
  using tok::split_words;
  auto spans = [](const std::string& text, const tok::WordSplitOptions& options = {}) {
    std::vector<std::string> out;
    for (const auto& w : split_words(text, options))
      out.push_back(std::string(w.text(text)) + "@" + std::to_string(w.char_begin) + ":" + std::to_string(w.char_end) +
                    "/" + std::to_string(w.begin) + ":" + std::to_string(w.end));
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(spans("Hello, world!") == V{"Hello@0:5/0:5", ",@5:6/5:6", "world@7:12/7:12", "!@12:13/12:13"});
  CHECK(spans("  two\tspaces\n") == V{"two@2:5/2:5", "spaces@6:12/6:12"});
  // CJK ideographs alone; bytes 3 each, code points 1.
  CHECK(spans("我爱北京") == V{"我@0:1/0:3", "爱@1:2/3:6", "北@2:3/6:9", "京@3:4/9:12"});
  CHECK(spans("在Zürich住") == V{"在@0:1/0:3", "Zürich@1:7/3:10", "住@7:8/10:13"});
  // Accents stay, offsets count code points.
  CHECK(spans("Café au lait.") == V{"Café@0:4/0:5", "au@5:7/6:8", "lait@8:12/9:13", ".@12:13/13:14"});
  // An emoji (So, not punctuation) is a word, 4 bytes, one code point.
  CHECK(spans("hi 😀 there") == V{"hi@0:2/0:2", "😀@3:4/3:7", "there@5:10/8:13"});
  CHECK(spans("ok😀!") == V{"ok😀@0:3/0:6", "!@3:4/6:7"});
  // A combining mark stays with its letter.
  CHECK(spans("e\xCC\x81te x") == V{"e\xCC\x81te@0:4/0:5", "x@5:6/6:7"});
  // Control characters are dropped without splitting: inside a word they
  // are in its span, at its edge they are not.
  CHECK(spans("ab\xE2\x80\x8B" "cd \xE2\x80\x8Bx\x01") == V{"ab\xE2\x80\x8B" "cd@0:5/0:7", "x@7:8/11:12"});
  // No-break space and ideographic space separate; U+2028 too.
  CHECK(spans("a\xC2\xA0" "b\xE3\x80\x80" "c\xE2\x80\xA8" "d") == V{"a@0:1/0:1", "b@2:3/3:4", "c@4:5/7:8", "d@6:7/11:12"});
  // U+1FEF decomposes to "`": alone when accents are stripped (uncased BERT).
  CHECK(spans("x\xE1\xBF\xAFy").size() == 3);
  CHECK(spans("x\xE1\xBF\xAFy", {true, false}).size() == 1);
  CHECK(spans("中文", {false, true}) == V{"中文@0:2/0:6"});
  CHECK(split_words("").empty());
  CHECK(split_words(" \t\n").empty());
}

TEST_CASE("classification requests answer as predict writes, for texts and pairs", "[requests]") {
  const auto root = test::temp_dir("requests-cls");
  const auto dir = test::reference_classifier(root);
  auto model = ft::open_model(dir);

  SECTION("SST-2 texts") {
    const auto texts = sst_sentences(24);
    std::string rows;
    ft::classify::ClassifyRequest request;
    for (const auto& t : texts) {
      rows += nlohmann::json{{"sentence", t}}.dump() + "\n";
      request.inputs.push_back({t, std::nullopt});
    }
    write_text(root + "/sst.jsonl", rows);
    ft::predict_model_dir(dir, root + "/sst.jsonl", root + "/pred.jsonl", {}, torch::kCPU);
    const auto predicted = jsonl(root + "/pred.jsonl");
    auto job = ft::classify::classify_job(model, request);
    const auto answers = infer::run_job(model, job);
    REQUIRE(answers.size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      INFO(texts[i]);
      check_sorted(answers[i]);
      CHECK(answers[i].size() == 3);
      CHECK(answers[i][0].label == predicted[i]["prediction"]);
      const auto scores = score_map(answers[i]);
      for (const auto& [label, p] : predicted[i]["probabilities"].items()) CHECK(scores.at(label) == Approx(p.get<double>()).margin(1e-5));
    }
  }

  SECTION("MRPC pairs") {
    const auto lines = test::file_lines(test::shared_path("data/mrpc/dev.tsv"));
    std::string rows;
    ft::classify::ClassifyRequest request;
    for (std::size_t i = 1; i <= 16; ++i) {
      std::vector<std::string> f;
      std::stringstream s(lines[i]);
      for (std::string field; std::getline(s, field, '\t');) f.push_back(field);
      rows += nlohmann::json{{"sentence", f[3]}, {"pair", f[4]}}.dump() + "\n";
      request.inputs.push_back({f[3], f[4]});
    }
    write_text(root + "/mrpc.jsonl", rows);
    ft::InputSettings settings;
    settings.text_pair_column = "pair";
    ft::predict_model_dir(dir, root + "/mrpc.jsonl", root + "/pairs.jsonl", settings, torch::kCPU);
    const auto predicted = jsonl(root + "/pairs.jsonl");
    auto job = ft::classify::classify_job(model, request);
    const auto answers = infer::run_job(model, job);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      CHECK(answers[i][0].label == predicted[i]["prediction"]);
      const auto scores = score_map(answers[i]);
      for (const auto& [label, p] : predicted[i]["probabilities"].items()) CHECK(scores.at(label) == Approx(p.get<double>()).margin(1e-5));
    }
  }

  SECTION("multi-label: sigmoids; raw_scores: the logits, still sorted") {
    auto patch = test::reference_cls_data();
    patch["problem_type"] = "multi_label_classification";
    const auto multi_dir = test::reference_model_dir(root, "multi", "tiny-cls", patch);
    auto multi = ft::open_model(multi_dir);
    const auto texts = sst_sentences(6);
    std::string rows;
    for (const auto& t : texts) rows += nlohmann::json{{"sentence", t}}.dump() + "\n";
    write_text(root + "/multi.jsonl", rows);
    ft::predict_model_dir(multi_dir, root + "/multi.jsonl", root + "/multi_pred.jsonl", {}, torch::kCPU);
    const auto predicted = jsonl(root + "/multi_pred.jsonl");
    auto job = ft::model_request(multi, {{"inputs", texts}});
    const auto answers = infer::run_job(multi, job);
    auto raw_job = ft::model_request(multi, {{"inputs", texts}, {"raw_scores", true}});
    const auto raw = infer::run_job(multi, raw_job);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      for (const auto& s : answers[i]) {
        CHECK(s["score"].get<double>() == Approx(predicted[i]["probabilities"][s["label"].get<std::string>()].get<double>()).margin(1e-5));
      }
      for (std::size_t k = 0; k < 3; ++k) {
        CHECK(raw[i][k]["label"] == answers[i][k]["label"]);  // sigmoid keeps the logits' order
        CHECK(1 / (1 + std::exp(-raw[i][k]["score"].get<double>())) == Approx(answers[i][k]["score"].get<double>()));
      }
    }
  }
}

TEST_CASE("classification: one input alone or among others of other lengths gives the same answer", "[requests]") {
  const auto root = test::temp_dir("requests-cls-batch");
  auto model = ft::open_model(test::reference_classifier(root));
  const std::string text = "a gorgeous , witty , seductive movie .";
  auto alone = ft::model_request(model, {{"inputs", text}});
  const auto one = infer::run_job(model, alone);
  auto mixed = ft::model_request(model, {{"inputs", {"ok", text, std::string(300, 'x') + " long", "b c d e f g h"}}});
  const auto many = infer::run_job(model, mixed);
  REQUIRE(one.is_array());
  REQUIRE(many.size() == 4);
  REQUIRE(many[1].size() == one.size());
  for (std::size_t k = 0; k < one.size(); ++k) {
    CHECK(many[1][k]["label"] == one[k]["label"]);
    CHECK(many[1][k]["score"].get<double>() == Approx(one[k]["score"].get<double>()).margin(1e-5));
  }
}

TEST_CASE("classification requests name the field a client got wrong", "[requests]") {
  const auto root = test::temp_dir("requests-cls-errors");
  auto model = ft::open_model(test::reference_classifier(root));
  using Kind = infer::RequestError::Kind;
  check_rejected(model, nlohmann::json::array(), "");
  check_rejected(model, {{"text", "x"}}, "inputs");
  check_rejected(model, {{"inputs", 3}}, "inputs");
  check_rejected(model, {{"inputs", nlohmann::json::array()}}, "inputs");
  check_rejected(model, {{"inputs", ""}}, "inputs");
  check_rejected(model, {{"inputs", {"a", ""}}}, "inputs[1]");
  check_rejected(model, {{"inputs", {"a", "b", {"c", "d", "e"}}}}, "inputs[2]");
  check_rejected(model, {{"inputs", nlohmann::json::array({nlohmann::json::array({"a", 1})})}}, "inputs[0][1]");
  check_rejected(model, {{"inputs", {{{"text_pair", "b"}}}}}, "inputs[0].text");
  check_rejected(model, {{"inputs", {"ok", std::string("caf\xC3", 4)}}}, "inputs[1]");
  check_rejected(model, {{"inputs", "x"}, {"raw_scores", "yes"}}, "raw_scores");
  check_rejected(model, {{"inputs", "x"}, {"truncate", 1}}, "truncate");
  check_rejected(model, {{"inputs", std::vector<std::string>(5, "x")}}, "inputs", Kind::TooLarge, {4});
  std::string long_text;
  for (int i = 0; i < 60; ++i) long_text += "word ";
  check_rejected(model, {{"inputs", {"short", long_text}}, {"truncate", false}}, "inputs[1]", Kind::TooLarge);
  auto cut = ft::model_request(model, {{"inputs", long_text}});  // truncate: true (default) cuts it as predict does
  CHECK(cut.input_ids.at(0).size() == 48);
}

TEST_CASE("token classification requests tag raw text as predict tags its words", "[requests]") {
  const auto root = test::temp_dir("requests-tag");
  const auto dir = test::reference_tagger(root);
  auto model = ft::open_model(dir);
  // Raw sentences: WNUT-17 dev's tokens joined by spaces, and a few of our own.
  std::vector<std::string> texts = {"Café in Zürich, 東京 and New-York!!", "emoji 😀 here... (yes)", "x"};
  std::string sentence;
  for (const auto& line : test::file_lines(test::shared_path("data/wnut17/dev.conll"))) {
    if (texts.size() == 20) break;
    if (!line.empty()) {
      sentence += (sentence.empty() ? "" : " ") + line.substr(0, line.find('\t'));
    } else if (!sentence.empty()) {
      texts.push_back(sentence);
      sentence.clear();
    }
  }
  const auto options = tok::word_split_options(model.tokenizer());
  std::string conll;
  for (const auto& t : texts) {
    for (const auto& w : tok::split_words(t, options)) conll += std::string(w.text(t)) + "\n";
    conll += "\n";
  }
  write_text(root + "/words.conll", conll);
  ft::predict_model_dir(dir, root + "/words.conll", root + "/pred.conll", {}, torch::kCPU);
  std::vector<std::vector<std::string>> predicted(1);
  for (const auto& line : test::file_lines(root + "/pred.conll")) {
    if (line.empty()) {
      predicted.emplace_back();
      continue;
    }
    predicted.back().push_back(line.substr(line.rfind('\t') + 1));
  }

  ft::tagging::TagRequest request{texts};
  auto job = ft::tagging::tag_job(model, request);
  const auto answers = infer::run_job(model, job);
  REQUIRE(answers.size() == texts.size());
  std::size_t windows = job.input_ids.size(), entities = 0;
  CHECK(windows > texts.size());  // some texts need several windows
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO(texts[i]);
    std::vector<std::string> tags;
    for (const auto& w : answers[i].words) {
      tags.push_back(w.tag);
      CHECK(code_point_slice(texts[i], w.start, w.end) == w.word);
      CHECK(w.score > 0);
      CHECK(w.score <= 1);
    }
    CHECK(tags == predicted[i]);
    const auto expected = ft::tagging::extract_entities(tags);
    REQUIRE(answers[i].entities.size() == expected.size());
    for (std::size_t e = 0; e < expected.size(); ++e) {
      const auto& got = answers[i].entities[e];
      CHECK(got.entity_group == expected[e].type);
      CHECK(got.start == answers[i].words[static_cast<std::size_t>(expected[e].start)].start);
      CHECK(got.end == answers[i].words[static_cast<std::size_t>(expected[e].end - 1)].end);
      CHECK(code_point_slice(texts[i], got.start, got.end) == got.word);
      ++entities;
    }
  }
  CHECK(entities > 0);

  SECTION("alone or among others") {
    auto alone_job = ft::tagging::tag_job(model, {{texts[5]}});
    const auto alone = infer::run_job(model, alone_job);
    REQUIRE(alone[0].words.size() == answers[5].words.size());
    for (std::size_t w = 0; w < alone[0].words.size(); ++w) {
      CHECK(alone[0].words[w].tag == answers[5].words[w].tag);
      CHECK(alone[0].words[w].score == Approx(answers[5].words[w].score).margin(1e-5));
    }
  }
  SECTION("JSON: entities for one text, a list per text for a list; aggregation none lists the words not O") {
    auto one = ft::model_request(model, {{"inputs", texts[5]}});
    const auto grouped = infer::run_job(model, one);
    REQUIRE(grouped.is_array());
    CHECK(grouped.size() == answers[5].entities.size());
    auto none = ft::model_request(model, {{"inputs", {texts[5], "   "}}, {"aggregation", "none"}});
    const auto words = infer::run_job(model, none);
    REQUIRE(words.size() == 2);
    CHECK(words[1].empty());  // no words at all
    std::size_t not_o = 0;
    for (const auto& w : answers[5].words) not_o += w.tag != "O";
    CHECK(words[0].size() == not_o);
  }
}

TEST_CASE("entities are grouped as the HF pipeline groups them, over the model's scheme", "[requests]") {
  using ft::tagging::TaggedWord;
  const std::string text = "aa bb cc dd ee";
  auto words = [](std::vector<std::string> tags) {
    std::vector<TaggedWord> out;
    for (std::size_t i = 0; i < tags.size(); ++i)
      out.push_back({"", static_cast<std::int64_t>(3 * i), static_cast<std::int64_t>(3 * i + 2), 3 * i, 3 * i + 2, tags[i],
                     0.1 * static_cast<double>(i + 1)});
    return out;
  };
  auto groups = [&](std::vector<std::string> tags, ft::tagging::TagScheme scheme) {
    std::vector<std::string> out;
    for (const auto& e : ft::tagging::group_entities(text, words(tags), scheme))
      out.push_back(e.entity_group + ":" + e.word + ":" + std::to_string(e.start) + "-" + std::to_string(e.end));
    return out;
  };
  using V = std::vector<std::string>;
  using ft::tagging::TagScheme;
  CHECK(groups({"B-PER", "I-PER", "O", "I-LOC", "B-LOC"}, TagScheme::Iob2) ==
        V{"PER:aa bb:0-5", "LOC:dd:9-11", "LOC:ee:12-14"});
  CHECK(groups({"B-PER", "I-LOC", "I-LOC", "O", "O"}, TagScheme::Iob2) == V{"PER:aa:0-2", "LOC:bb cc:3-8"});
  CHECK(groups({"PER", "PER", "O", "LOC", "O"}, TagScheme::Iob2) == V{"PER:aa bb:0-5", "LOC:dd:9-11"});
  CHECK(groups({"B-PER", "E-PER", "S-LOC", "S-LOC", "O"}, TagScheme::Bioes) ==
        V{"PER:aa bb:0-5", "LOC:cc:6-8", "LOC:dd:9-11"});
  const auto e = ft::tagging::group_entities(text, words({"O", "B-X", "I-X", "I-X", "O"}), TagScheme::Iob2);
  REQUIRE(e.size() == 1);
  CHECK(e[0].score == Approx((0.2 + 0.3 + 0.4) / 3));
  CHECK(ft::tagging::label_scheme({"O", "B-PER", "I-PER"}) == TagScheme::Iob2);
  CHECK(ft::tagging::label_scheme({"O", "B-PER", "E-PER", "S-PER", "I-PER"}) == TagScheme::Bioes);
  CHECK(ft::tagging::label_scheme({"O", "B-PER", "M-PER", "E-PER", "S-PER"}) == TagScheme::Bmes);
}

TEST_CASE("token classification requests name the field a client got wrong", "[requests]") {
  const auto root = test::temp_dir("requests-tag-errors");
  auto model = ft::open_model(test::reference_tagger(root));
  check_rejected(model, {{"inputs", {"ok", {{"text", "x"}}}}}, "inputs[1]");
  check_rejected(model, {{"inputs", {"ok", {"a", "b"}}}}, "inputs[1]");
  check_rejected(model, {{"inputs", "ok"}, {"aggregation", "max"}}, "aggregation");
  check_rejected(model, {{"inputs", std::string("\xFF\xFE")}}, "inputs");
}

TEST_CASE("QA requests answer as predict does, with the answer's place in the context", "[requests]") {
  const auto root = test::temp_dir("requests-qa");
  const auto dir = test::reference_reader(root);
  auto model = ft::open_model(dir);
  // The first 24 questions of SQuAD v1.1 dev.
  const auto squad = nlohmann::json::parse(test::slurp_file(test::shared_path("data/squad_v1.1/dev-v1.1.json")));
  nlohmann::json paragraphs = nlohmann::json::array();
  ft::qa::QaRequest request;
  std::vector<std::string> ids;
  for (const auto& p : squad["data"][0]["paragraphs"]) {
    nlohmann::json para = {{"context", p["context"]}, {"qas", nlohmann::json::array()}};
    for (const auto& qa : p["qas"])
      if (ids.size() < 24) {
        para["qas"].push_back(qa);
        ids.push_back(qa["id"]);
        request.inputs.push_back({qa["question"], p["context"]});
      }
    if (!para["qas"].empty()) paragraphs.push_back(para);
  }
  const nlohmann::json file = {{"version", "1.1"}, {"data", {{{"title", "t"}, {"paragraphs", paragraphs}}}}};
  write_text(root + "/squad.json", file.dump());
  ft::predict_model_dir(dir, root + "/squad.json", root + "/pred.json", {}, torch::kCPU);
  const auto predicted = nlohmann::json::parse(test::slurp_file(root + "/pred.json"));
  const auto nbest = nlohmann::json::parse(test::slurp_file(root + "/nbest_predictions.json"));

  request.top_k = 3;
  auto job = ft::qa::qa_job(model, request);
  const auto answers = infer::run_job(model, job);
  REQUIRE(answers.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    INFO(ids[i]);
    const auto& context = request.inputs[i].context;
    REQUIRE(answers[i].size() == 3);
    CHECK(answers[i][0].answer == predicted[ids[i]]);
    CHECK(answers[i][0].score == Approx(nbest[ids[i]][0]["probability"].get<double>()).margin(1e-5));
    for (std::size_t k = 0; k < answers[i].size(); ++k) {
      CHECK(code_point_slice(context, answers[i][k].start, answers[i][k].end) == answers[i][k].answer);
      CHECK(answers[i][k].answer == nbest[ids[i]][k]["text"]);
    }
  }

  SECTION("alone or among others; JSON shapes") {
    auto alone = ft::model_request(model, {{"inputs", {{"question", request.inputs[7].question}, {"context", request.inputs[7].context}}}});
    const auto one = infer::run_job(model, alone);
    REQUIRE(one.is_object());
    CHECK(one["answer"] == answers[7][0].answer);
    CHECK(one["start"] == answers[7][0].start);
    CHECK(one["end"] == answers[7][0].end);
    CHECK(one["score"].get<double>() == Approx(answers[7][0].score).margin(1e-5));
    nlohmann::json list = nlohmann::json::array();
    list.push_back({{"question", "short?"}, {"context", "a tiny context."}});
    list.push_back({{"question", request.inputs[7].question}, {"context", request.inputs[7].context}});
    auto many = ft::model_request(model, {{"inputs", list}, {"top_k", 2}});
    const auto two = infer::run_job(model, many);
    REQUIRE(two.size() == 2);
    REQUIRE(two[1].size() == 2);
    CHECK(two[1][0]["answer"] == one["answer"]);
    CHECK(two[1][0]["score"].get<double>() == Approx(one["score"].get<double>()).margin(1e-5));
  }
  SECTION("a context of spaces only has no answer") {
    auto blank = ft::model_request(model, {{"inputs", {{"question", "why?"}, {"context", " \t "}}}});
    const auto none = infer::run_job(model, blank);
    CHECK(none == nlohmann::json{{"answer", ""}, {"score", 0.0}, {"start", 0}, {"end", 0}});
  }
}

TEST_CASE("QA requests name the field a client got wrong", "[requests]") {
  const auto root = test::temp_dir("requests-qa-errors");
  auto model = ft::open_model(test::reference_reader(root));
  check_rejected(model, {{"inputs", "a question"}}, "inputs");
  check_rejected(model, {{"inputs", {{"question", "q"}}}}, "inputs.context");
  check_rejected(model, {{"inputs", {{"question", 1}, {"context", "c"}}}}, "inputs.question");
  check_rejected(model, {{"inputs", {{{"question", "q"}, {"context", "c"}}, {{"question", ""}, {"context", "c"}}}}},
                 "inputs[1].question");
  check_rejected(model, {{"inputs", {{"question", "q"}, {"context", "c"}}}, {"top_k", 0}}, "top_k");
  check_rejected(model, {{"inputs", {{"question", "q"}, {"context", "c"}}}, {"top_k", 1.5}}, "top_k");
}

TEST_CASE("bf16 runs inside the one loop when the model is set to it, close to fp32", "[requests][precision]") {
  // References are fp32; bf16 is compared with a tolerance that holds on any
  // CPU (LibTorch's bf16 kernels differ between AVX2 and AVX-512 machines).
  const auto root = test::temp_dir("requests-bf16");
  auto model = ft::open_model(test::reference_classifier(root));
  const auto texts = sst_sentences(12);
  auto fp32_job = ft::model_request(model, {{"inputs", texts}, {"raw_scores", true}});
  const auto fp32 = infer::run_job(model, fp32_job);
  model.set_precision(infer::Precision::Bf16);
  CHECK(model.precision() == infer::Precision::Bf16);
  auto bf16_job = ft::model_request(model, {{"inputs", texts}, {"raw_scores", true}});
  const auto bf16 = infer::run_job(model, bf16_job);
  REQUIRE(bf16.size() == fp32.size());
  double max_diff = 0, max_abs = 0;
  for (std::size_t i = 0; i < fp32.size(); ++i)
    for (std::size_t k = 0; k < fp32[i].size(); ++k) {
      const auto a = fp32[i][k]["score"].get<double>();
      double b = 0;
      for (const auto& row : bf16[i])
        if (row["label"] == fp32[i][k]["label"]) b = row["score"].get<double>();
      max_diff = std::max(max_diff, std::abs(a - b));
      max_abs = std::max(max_abs, std::abs(a));
    }
  CHECK(max_diff > 0);                 // bf16 really ran
  CHECK(max_diff < 0.05 * max_abs + 0.02);
  CHECK_THROWS_WITH(infer::parse_precision("fp16"), Contains("--precision must be fp32, bf16 or int8"));
}

TEST_CASE("the encoder pass of a fine-tuned model gives its encoder's states", "[requests][precision]") {
  const auto root = test::temp_dir("requests-encoder");
  const auto dir = test::reference_classifier(root);
  auto model = ft::open_model(dir);
  auto encoder = infer::Model::open_encoder(dir);
  const std::vector<std::int32_t> ids = {2, 7, 11, 3};  // within the tiny vocabulary
  infer::PaddedBatch batch = infer::pad({{&ids, nullptr}}, {0}, model.pad_id());
  const auto inside = infer::forward_batch(model, batch, infer::Pass::Encoder);
  const auto alone = infer::forward_batch(encoder, batch, infer::Pass::Encoder);
  REQUIRE(inside.hidden_states.size() == alone.hidden_states.size());
  CHECK(torch::equal(inside.hidden_states.back(), alone.hidden_states.back()));
  CHECK(inside.pooler_output.defined());
}
