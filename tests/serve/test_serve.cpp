#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "../support/cli_runner.h"
#include "../support/reference_model_dirs.h"
#include "../support/shared_data.h"
#include "serve_process.h"

// `bertforge serve` as a user runs it: a child process on a free port,
// answered over loopback by httplib's client and by raw sockets.

using namespace bf;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Answer {
  int status = -1;  // -1: no HTTP answer (connection error)
  json body;
  std::string text;
};

Answer answer_of(const httplib::Result& r) {
  Answer a;
  if (!r) return a;
  a.status = r->status;
  a.text = r->body;
  a.body = json::parse(r->body, nullptr, false);
  return a;
}

httplib::Client client(int port, int timeout_s = 30) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(timeout_s, 0);
  c.set_write_timeout(timeout_s, 0);
  c.set_connection_timeout(5, 0);
  return c;
}

Answer post(int port, const std::string& path, const std::string& body, const httplib::Headers& headers = {},
            const std::string& content_type = "application/json") {
  auto c = client(port);
  return answer_of(c.Post(path.c_str(), headers, body, content_type.c_str()));
}

Answer get(int port, const std::string& path, const httplib::Headers& headers = {}) {
  auto c = client(port);
  return answer_of(c.Get(path.c_str(), headers));
}

bool healthy(int port) { return get(port, "/health").status == 200; }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The first n sentences of SST-2 dev (lengths 5..50 words).
std::vector<std::string> sentences(std::size_t n) {
  const auto lines = test::file_lines(test::shared_path("data/sst2/dev.tsv"));
  std::vector<std::string> out;
  for (std::size_t i = 1; i < lines.size() && out.size() < n; ++i) out.push_back(lines[i].substr(0, lines[i].find('\t')));
  return out;
}

// The value of a Prometheus line `name` (with its labels), -1 when absent.
double metric(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

std::string log_path(const std::string& name) { return test::temp_dir("serve") + "/" + name + ".log"; }

}  // namespace

TEST_CASE("serve answers /health, /info, /tokenize, /embed and /metrics in their documented shapes", "[serve][routes]") {
  const auto root = test::temp_dir("serve-routes");
  const auto dir = test::reference_classifier(root);
  test::ServeProcess server(dir, {"--max-wait-ms", "2"}, log_path("routes"));
  const int port = server.port();
  INFO(server.log());

  auto health = get(port, "/health");
  CHECK(health.status == 200);

  auto info = get(port, "/info");
  REQUIRE(info.status == 200);
  CHECK(info.body["model_id"] == dir);
  CHECK(info.body["labels"] == json::array({"negative", "neutral", "positive"}));
  CHECK(info.body["precision"] == "fp32");
  CHECK(info.body["max_input_length"].get<int>() > 0);
  CHECK(info.body["max_client_batch_size"] == 32);
  CHECK(!info.body["version"].get<std::string>().empty());
  CHECK(info.body["auth"] == false);

  const std::string text = "Héllo, wörld of tokenizers";
  auto tokens = post(port, "/tokenize", json{{"inputs", text}}.dump());
  REQUIRE(tokens.status == 200);
  REQUIRE(tokens.body.size() == 1);
  const auto& pieces = tokens.body[0];
  REQUIRE(pieces.size() >= 3);
  CHECK(pieces.front()["text"] == "[CLS]");
  CHECK(pieces.front()["special"] == true);
  CHECK(pieces.front()["start"].is_null());
  CHECK(pieces.back()["text"] == "[SEP]");
  CHECK(pieces[1]["special"] == false);
  // start/stop are code points: "wörld" starts at 7 although its byte offset is 8.
  const std::u32string chars = U"Héllo, wörld of tokenizers";
  std::size_t previous_stop = 0;
  for (std::size_t i = 1; i + 1 < pieces.size(); ++i) {
    const auto start = pieces[i]["start"].get<std::size_t>(), stop = pieces[i]["stop"].get<std::size_t>();
    CHECK(start >= previous_stop);
    CHECK(stop > start);
    CHECK(stop <= chars.size());
    previous_stop = stop;
  }
  bool w_at_7 = false;
  for (const auto& p : pieces)
    if (!p["special"].get<bool>() && p["start"] == 7) w_at_7 = true;
  CHECK(w_at_7);
  CHECK(post(port, "/tokenize", R"({"inputs": ["a", "b c"], "add_special_tokens": false})").body[1].size() == 2);

  auto embed = post(port, "/embed", R"({"inputs": ["a short one", "and a somewhat longer second input"]})");
  REQUIRE(embed.status == 200);
  REQUIRE(embed.body.size() == 2);
  for (const auto& v : embed.body) {
    double norm = 0;
    for (const auto& x : v) norm += x.get<double>() * x.get<double>();
    CHECK(std::sqrt(norm) == Approx(1.0).epsilon(1e-5));
  }
  auto raw = post(port, "/embed", R"({"inputs": "a short one", "normalize": false, "pooling": "mean"})");
  REQUIRE(raw.status == 200);
  CHECK(raw.body.size() == 1);
  CHECK(raw.body[0].size() == embed.body[0].size());

  const auto metrics = get(port, "/metrics").text;
  INFO(metrics);
  CHECK(metric(metrics, R"(bertforge_requests_total{route="/embed",status="200"})") == 2);
  CHECK(metric(metrics, R"(bertforge_requests_total{route="/tokenize",status="200"})") == 2);
  CHECK(metric(metrics, "bertforge_queue_depth") == 0);
  CHECK(metric(metrics, "bertforge_batch_size_count") >= 2);
  CHECK(metric(metrics, "bertforge_tokens_total") > 0);
  CHECK(metric(metrics, "bertforge_request_duration_seconds_count") >= 4);
  CHECK(server.terminate() == 0);
}

TEST_CASE("serve with an API key answers 401 without it and serves with it", "[serve][auth]") {
  const auto root = test::temp_dir("serve-auth");
  const auto dir = test::reference_classifier(root);
  test::ServeProcess server(dir, {"--api-key", "s3cret"}, log_path("auth"));
  const int port = server.port();
  const std::string body = R"({"inputs": "hello"})";
  CHECK(post(port, "/embed", body).status == 401);
  CHECK(post(port, "/embed", body).body["error_type"] == "Unauthorized");
  CHECK(post(port, "/embed", body, {{"Authorization", "Bearer wrong"}}).status == 401);
  CHECK(post(port, "/embed", body, {{"Authorization", "s3cret"}}).status == 401);
  CHECK(post(port, "/embed", body, {{"Authorization", "Bearer s3cret"}}).status == 200);
  CHECK(get(port, "/info").status == 401);
  CHECK(get(port, "/info", {{"Authorization", "Bearer s3cret"}}).body["auth"] == true);
  CHECK(get(port, "/health").status == 200);  // liveness probes carry no key
}

TEST_CASE("a second serve on a port in use fails naming it, the first keeps serving", "[serve][bind]") {
  const auto root = test::temp_dir("serve-bind");
  const auto dir = test::reference_classifier(root);
  test::ServeProcess server(dir, {}, log_path("bind"));
  const auto port = std::to_string(server.port());
  // cpp-httplib's own socket options set SO_REUSEPORT, which would let this
  // one bind too and take half the connections.
  const auto second = test::run_bertforge("serve --model '" + dir + "' --port " + port);
  CHECK(second.exit_code != 0);
  CHECK_THAT(second.output, Catch::Matchers::Contains("cannot listen on 127.0.0.1:" + port));
  CHECK(get(server.port(), "/health").status == 200);
}

TEST_CASE("serve answers 429 at once when the queue is full and 503 when a request times out", "[serve][overload]") {
  const auto root = test::temp_dir("serve-overload");
  const auto dir = test::reference_classifier(root);
  // Every forward takes 1.5 s (a testing hook): the first request holds the
  // worker past its 300 ms timeout, the second fills the queue (max 1).
  test::ServeProcess server(dir, {"--max-queued", "1", "--request-timeout-ms", "300"}, log_path("overload"),
                            {{"BERTFORGE_FAULT_FORWARD_DELAY_MS", "1500"}});
  const int port = server.port();
  Answer first, second;
  double first_seconds = 0;
  std::thread running([&] {
    const auto start = Clock::now();
    first = post(port, "/embed", R"({"inputs": "runs in the worker"})");
    first_seconds = seconds_since(start);
  });
  // Nothing else is being read, so the first runs at once and leaves the queue.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  std::thread waiting([&] { second = post(port, "/embed", R"({"inputs": "waits in the queue"})"); });
  // Bounded: until the second is queued.
  for (int i = 0; i < 100 && metric(get(port, "/metrics").text, "bertforge_queue_depth") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto start = Clock::now();
  const auto refused = post(port, "/embed", R"({"inputs": "one too many"})");
  const auto refused_seconds = seconds_since(start);
  running.join();
  waiting.join();
  CHECK(refused.status == 429);
  CHECK(refused.body["error_type"] == "Overloaded");
  CHECK(refused_seconds < 0.25);
  CHECK(first.status == 503);
  CHECK(second.status == 503);
  CHECK(first_seconds >= 0.29);
  CHECK(first_seconds < 1.4);
  CHECK(healthy(port));
}

TEST_CASE("serve answers what is in flight on SIGTERM, then exits 0", "[serve][sigterm]") {
  const auto root = test::temp_dir("serve-sigterm");
  const auto dir = test::reference_classifier(root);
  // Every forward takes 0.8 s: one request runs while the others are queued when SIGTERM comes.
  test::ServeProcess server(dir, {"--max-batch-size", "64"}, log_path("sigterm"),
                            {{"BERTFORGE_FAULT_FORWARD_DELAY_MS", "800"}});
  const int port = server.port();
  std::vector<Answer> answers(3);
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    clients.emplace_back([&, i] { answers[i] = post(port, "/embed", R"({"inputs": ["in flight", "when stopped"]})"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int i = 0; i < 200 && metric(get(port, "/metrics").text, "bertforge_queue_depth") < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int exit_code = server.terminate();
  for (auto& c : clients) c.join();
  INFO(server.log());
  CHECK(exit_code == 0);
  for (const auto& a : answers) {
    CHECK(a.status == 200);
    CHECK(a.body.size() == 2);
  }
  CHECK(server.log().find("serve: stopped") != std::string::npos);
}

TEST_CASE("serve's /predict equals bertforge predict, concurrent batch-mates of other lengths included",
          "[serve][predict]") {
  const auto root = test::temp_dir("serve-predict");
  const auto dir = test::reference_classifier(root);
  const auto texts = sentences(32);
  {
    std::ofstream in(root + "/in.txt");
    for (const auto& t : texts) in << t << "\n";
  }
  const auto offline = test::run_bertforge("predict --model " + dir + " --format text --input " + root +
                                           "/in.txt --output " + root + "/out.tsv --threads 1");
  REQUIRE(offline.exit_code == 0);
  const auto rows = test::file_lines(root + "/out.tsv");
  REQUIRE(rows.size() == texts.size() + 1);
  const std::vector<std::string> labels = {"negative", "neutral", "positive"};

  // 8 clients at once, 4 inputs each, so forwards mix requests and lengths.
  test::ServeProcess server(dir, {"--max-wait-ms", "20", "--max-batch-size", "16"}, log_path("predict"));
  const int port = server.port();
  std::vector<Answer> answers(8);
  std::vector<std::thread> clients;
  for (std::size_t c = 0; c < answers.size(); ++c)
    clients.emplace_back([&, c] {
      json inputs = json::array();
      for (std::size_t i = c; i < texts.size(); i += answers.size()) inputs.push_back(texts[i]);
      answers[c] = post(port, "/predict", json{{"inputs", inputs}}.dump());
    });
  for (auto& t : clients) t.join();
  for (std::size_t c = 0; c < answers.size(); ++c) {
    REQUIRE(answers[c].status == 200);
    for (std::size_t k = 0; k < answers[c].body.size(); ++k) {
      const auto i = c + k * answers.size();
      // predict's row: text, prediction, prob_negative, prob_neutral, prob_positive
      std::vector<std::string> fields;
      std::stringstream row(rows[i + 1]);
      for (std::string f; std::getline(row, f, '\t');) fields.push_back(f);
      REQUIRE(fields.size() >= 4);
      const auto& scores = answers[c].body[k];
      INFO(texts[i] << " -> " << scores.dump());
      CHECK(scores[0]["label"] == fields[fields.size() - 4]);
      for (const auto& s : scores) {
        const auto at = std::find(labels.begin(), labels.end(), s["label"].get<std::string>()) - labels.begin();
        CHECK(s["score"].get<double>() ==
              Approx(std::stod(fields[fields.size() - 3 + static_cast<std::size_t>(at)])).margin(1e-5));
      }
    }
  }
  const auto metrics = get(port, "/metrics").text;
  CHECK(metric(metrics, R"(bertforge_requests_total{route="/predict",status="200"})") == 8);
  // Fewer forwards than requests: they were batched together.
  CHECK(metric(metrics, "bertforge_batches_total") < 8);
  CHECK(post(port, "/predict", R"({"inputs": [["a", "b", "c"]]})").status == 422);  // a pair of three
  CHECK(post(port, "/predict", R"({"inputs": [["a", "b"]]})").status == 200);
  CHECK(post(port, "/predict", R"({"inputs": "a", "raw_scores": "no"})").status == 422);
}

TEST_CASE("serve's /predict of a reader equals predict's answers, a tagger's entities point into the text",
          "[serve][predict]") {
  const auto root = test::temp_dir("serve-heads");
  // The first 8 questions of SQuAD v1.1 dev, as predict reads them.
  const auto squad = json::parse(test::slurp_file(test::shared_path("data/squad_v1.1/dev-v1.1.json")));
  json paragraphs = json::array();
  std::vector<json> questions;  // {id, question, context}
  for (const auto& p : squad["data"][0]["paragraphs"]) {
    json qas = json::array();
    for (const auto& qa : p["qas"])
      if (questions.size() < 8) {
        qas.push_back(qa);
        questions.push_back({{"id", qa["id"]}, {"question", qa["question"]}, {"context", p["context"]}});
      }
    if (!qas.empty()) paragraphs.push_back({{"context", p["context"]}, {"qas", qas}});
  }
  std::ofstream(root + "/squad.json") << json{{"version", "1.1"}, {"data", {{{"title", "t"}, {"paragraphs", paragraphs}}}}}.dump();
  const auto reader = test::reference_reader(root);
  const auto offline = test::run_bertforge("predict --model " + reader + " --input " + root + "/squad.json --output " +
                                           root + "/pred.json --threads 1");
  REQUIRE(offline.exit_code == 0);
  const auto expected = json::parse(test::slurp_file(root + "/pred.json"));
  {
    test::ServeProcess server(reader, {"--max-wait-ms", "20"}, log_path("reader"));
    std::vector<Answer> answers(questions.size());
    std::vector<std::thread> clients;
    for (std::size_t i = 0; i < questions.size(); ++i)
      clients.emplace_back([&, i] {
        answers[i] = post(server.port(), "/predict",
                          json{{"inputs", {{"question", questions[i]["question"]}, {"context", questions[i]["context"]}}}}.dump());
      });
    for (auto& t : clients) t.join();
    for (std::size_t i = 0; i < questions.size(); ++i) {
      INFO(answers[i].text);
      REQUIRE(answers[i].status == 200);
      CHECK(answers[i].body["answer"] == expected[questions[i]["id"].get<std::string>()]);
    }
    CHECK(post(server.port(), "/predict", R"({"inputs": {"question": "q", "context": "c"}, "top_k": -1})").status == 422);
    CHECK(post(server.port(), "/predict", R"({"inputs": {"question": "q"}})").status == 422);
  }

  const auto tagger = test::reference_tagger(root);
  test::ServeProcess server(tagger, {"--max-wait-ms", "5"}, log_path("tagger"));
  const std::string text = "Barack Obama visited the Eiffel Tower in Paris with Michelle last summer";
  const auto tagged = post(server.port(), "/predict", json{{"inputs", text}}.dump());
  REQUIRE(tagged.status == 200);
  REQUIRE(tagged.body.is_array());
  for (const auto& e : tagged.body) {
    INFO(e.dump());
    const auto start = e["start"].get<std::size_t>(), end = e["end"].get<std::size_t>();
    CHECK(text.substr(start, end - start) == e["word"].get<std::string>());
    CHECK(e.contains("entity_group"));
    CHECK(e["score"].get<double>() > 0);
  }
  CHECK(post(server.port(), "/predict", R"({"inputs": [["a", "b", "c"]]})").status == 422);
}
