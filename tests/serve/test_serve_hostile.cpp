#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "../support/reference_model_dirs.h"
#include "../support/shared_data.h"
#include "serve_process.h"

// Requests a client should not send, each with the status docs/serving.md
// documents; the server answers /health after every one.

using namespace bf;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Hostile {
  std::string name;
  std::string method;
  std::string path;
  std::string body;
  int status;
  std::string content_type = "application/json";
};

int send(httplib::Client& c, const Hostile& h) {
  auto status = [](const httplib::Result& r) { return r ? r->status : -1; };
  if (h.method == "POST") return status(c.Post(h.path.c_str(), h.body, h.content_type.c_str()));
  if (h.method == "GET") return status(c.Get(h.path.c_str()));
  if (h.method == "PUT") return status(c.Put(h.path.c_str(), h.body, h.content_type.c_str()));
  return status(c.Delete(h.path.c_str()));
}

std::string words(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += "word ";
  return s;
}

std::string many_inputs(std::size_t n) {
  std::string s = R"({"inputs": [)";
  for (std::size_t i = 0; i < n; ++i) s += (i ? ",\"a\"" : "\"a\"");
  return s + "]}";
}

std::vector<Hostile> hostile_requests() {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  return {
      {"malformed JSON", "POST", "/embed", R"({"inputs": )", 400},
      {"not JSON", "POST", "/embed", "hello", 400},
      {"invalid UTF-8", "POST", "/embed", "{\"inputs\": \"\xff\xfe\"}", 400},
      {"overlong UTF-8", "POST", "/embed", "{\"inputs\": \"\xc0\xaf\"}", 400},
      {"lone surrogate escape", "POST", "/embed", R"({"inputs": "\ud800"})", 400},
      {"empty body", "POST", "/embed", "", 400},
      {"body is a list", "POST", "/embed", R"(["a"])", 422},
      {"body is a string", "POST", "/embed", R"("a")", 422},
      {"body is null", "POST", "/embed", "null", 422},
      {"no inputs", "POST", "/embed", "{}", 422},
      {"inputs null", "POST", "/embed", R"({"inputs": null})", 422},
      {"inputs a number", "POST", "/embed", R"({"inputs": 42})", 422},
      {"numbers as inputs", "POST", "/embed", R"({"inputs": [1, 2]})", 422},
      {"a null input", "POST", "/embed", R"({"inputs": ["a", null]})", 422},
      {"empty string", "POST", "/embed", R"({"inputs": ""})", 422},
      {"empty list", "POST", "/embed", R"({"inputs": []})", 422},
      {"nested garbage", "POST", "/embed", R"({"inputs": [[[[["a"]]]], {"b": [1]}]})", 422},
      {"inputs an object", "POST", "/embed", R"({"inputs": {"a": 1}})", 422},
      {"100,000 levels of nesting", "POST", "/embed", deep, 422},
      {"normalize a string", "POST", "/embed", R"({"inputs": "a", "normalize": "yes"})", 422},
      {"unknown pooling", "POST", "/embed", R"({"inputs": "a", "pooling": "max"})", 422},
      {"huge input, truncate false", "POST", "/embed", json{{"inputs", words(3000)}, {"truncate", false}}.dump(), 413},
      {"33 inputs", "POST", "/embed", many_inputs(33), 413},
      {"100,000 inputs", "POST", "/embed", many_inputs(100000), 413},
      {"10 MB body", "POST", "/embed", json{{"inputs", std::string(10 << 20, 'a')}}.dump(), 413},
      {"tokenize a number", "POST", "/tokenize", R"({"inputs": 123})", 422},
      {"tokenize an empty string", "POST", "/tokenize", R"({"inputs": [""]})", 422},
      {"add_special_tokens a number", "POST", "/tokenize", R"({"inputs": "a", "add_special_tokens": 1})", 422},
      {"text/plain", "POST", "/embed", R"({"inputs": "a"})", 415, "text/plain"},
      {"form encoded", "POST", "/embed", "inputs=a", 415, "application/x-www-form-urlencoded"},
      {"GET a POST route", "GET", "/embed", "", 405},
      {"PUT /predict", "PUT", "/predict", "{}", 405},
      {"DELETE /health", "DELETE", "/health", "", 405},
      {"POST /info", "POST", "/info", "{}", 405},
      {"unknown route", "GET", "/v1/embeddings", "", 404},
      {"path traversal", "GET", "/../../etc/passwd", "", 404},
  };
}

bool healthy(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(5, 0);
  auto r = c.Get("/health");
  return r && r->status == 200;
}

// A raw exchange: what the server sends back before closing or `wait_ms`.
std::string raw_exchange(int port, const std::string& data, int wait_ms) {
  test::RawSocket s(port, wait_ms);
  s.send_all(data);
  return s.receive();
}

}  // namespace

TEST_CASE("serve answers hostile requests with their documented status and keeps serving", "[serve][hostile]") {
  const auto root = test::temp_dir("serve-hostile");
  const auto dir = test::reference_classifier(root);
  test::ServeProcess server(dir, {"--read-timeout-ms", "1000", "--keep-alive-timeout-s", "1", "--http-threads", "4"},
                            test::temp_dir("serve") + "/hostile.log");
  const int port = server.port();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  c.set_write_timeout(30, 0);
  int checked = 0;
  for (const auto& h : hostile_requests()) {
    INFO(h.name);
    CHECK(send(c, h) == h.status);
    CHECK(healthy(port));
    ++checked;
  }
  SECTION("raw sockets: headers without end, slow bodies, broken framing") {
    // A slow client holds one connection thread until the read timeout; the
    // others keep answering meanwhile.
    auto start = Clock::now();
    std::thread slow([&] {
      raw_exchange(port, "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"in",
                   5000);
    });
    std::thread endless_headers([&] {
      std::string headers = "GET /health HTTP/1.1\r\nHost: x\r\n";
      for (int i = 0; i < 200; ++i) headers += "X-Pad-" + std::to_string(i) + ": y\r\n";
      raw_exchange(port, headers, 5000);  // never the blank line
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto during = Clock::now();
    CHECK(healthy(port));
    CHECK(std::chrono::duration<double>(Clock::now() - during).count() < 0.5);
    slow.join();
    endless_headers.join();
    // Both were answered 400 at the read timeout (1 s) and dropped after the
    // keep-alive timeout (1 s more; httplib 0.11 waits for a next request),
    // well before the clients' own 5 s.
    CHECK(std::chrono::duration<double>(Clock::now() - start).count() < 4.0);
    ++checked;
    ++checked;

    const auto long_header = raw_exchange(
        port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(100000, 'a') + "\r\n\r\n", 3000);
    CHECK(long_header.rfind("HTTP/1.1 200", 0) != 0);  // refused or dropped, never served
    CHECK(healthy(port));
    const auto bad_chunk = raw_exchange(
        port, "POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 3000);
    CHECK(bad_chunk.rfind("HTTP/1.1 200", 0) != 0);
    CHECK(healthy(port));
    const auto negative_length =
        raw_exchange(port, "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}", 3000);
    CHECK(negative_length.rfind("HTTP/1.1 200", 0) != 0);
    CHECK(healthy(port));
    const auto garbage = raw_exchange(port, "\x16\x03\x01\x02\x00 TLS hello to a plain server\r\n\r\n", 3000);
    CHECK(garbage.rfind("HTTP/1.1 200", 0) != 0);
    CHECK(healthy(port));
    checked += 4;
  }
  CHECK(checked >= 30);
  // Each refusal counted once, under its route ("other" for unknown ones).
  httplib::Client m("127.0.0.1", port);
  const auto metrics = m.Get("/metrics");
  REQUIRE(metrics);
  INFO(metrics->body);
  CHECK(metrics->body.find("bertforge_requests_total{route=\"/embed\",status=\"422\"} 15\n") != std::string::npos);
  CHECK(metrics->body.find("bertforge_requests_total{route=\"other\",status=\"404\"} 2\n") != std::string::npos);
}
