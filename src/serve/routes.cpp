#include "serve/routes.h"

#include <httplib.h>

#include <set>
#include <string>
#include <vector>

#include "finetune/request_inputs.h"
#include "infer/embed.h"
#include "infer/request_error.h"
#include "model/any_bert.h"
#include "serve/auth.h"
#include "serve/service.h"

namespace bf::serve {
namespace {

using nlohmann::json;
using Body = std::function<Reply(Service& service, const json& body)>;

const std::set<std::string> kPostRoutes = {"/predict", "/embed", "/tokenize"};
const std::set<std::string> kGetRoutes = {"/info", "/health", "/metrics"};

// "inputs": one text or a list of 1..max_inputs non-empty UTF-8 texts, read
// as /predict reads them (finetune/request_inputs.h).
std::vector<std::string> texts_of(const json& body, std::int64_t max_inputs) {
  const auto inputs = ft::request_inputs(body, {max_inputs});
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < inputs.items.size(); ++i) texts.push_back(ft::text_field(*inputs.items[i], inputs.fields[i]));
  return texts;
}

Reply predict(Service& service, const json& body) {
  if (!service.predict)
    return error_reply(400, "this model is a bare encoder (no task head): /predict needs a fine-tuned model; "
                            "use /embed",
                       "Validation");
  BatchQueue::Incoming incoming(service.queue);
  return submit(service, service.predict(service.model, body), incoming);
}

Reply embed(Service& service, const json& body) {
  BatchQueue::Incoming incoming(service.queue);
  infer::EmbedRequest request;
  request.texts = texts_of(body, service.config.max_inputs);
  request.normalize = ft::bool_option(body, "normalize", true);
  request.truncate = ft::bool_option(body, "truncate", false);
  request.pooling = infer::parse_pooling(ft::string_option(body, "pooling", "cls", {"cls", "mean", "pooler"}));
  auto job = ft::json_job(infer::embed_job(service.model, request), [](auto vectors) { return json(vectors); });
  return submit(service, std::move(job), incoming);
}

// A text's pieces as TEI's /tokenize lists them: the piece as the vocabulary
// spells it, and start/stop in code points (Python str indices) of the text,
// so text[start:stop] is what it came from; special tokens have none.
json tokens_of(const tok::Tokenizer& tokenizer, const std::string& text, bool add_special_tokens) {
  const auto special = tokenizer.special_ids();
  auto special_token = [&](std::int32_t id) {
    return json{{"id", id}, {"text", tokenizer.id_to_token(id)}, {"special", true}, {"start", nullptr}, {"stop", nullptr}};
  };
  const auto pieces = tokenizer.encode_with_offsets(text);
  const auto spans = tok::codepoint_spans(text, pieces);
  json out = json::array();
  if (add_special_tokens) out.push_back(special_token(special.cls));
  for (std::size_t i = 0; i < pieces.size(); ++i)
    out.push_back({{"id", pieces[i].id},
                   {"text", pieces[i].piece},
                   {"special", false},
                   {"start", spans[i].start},
                   {"stop", spans[i].end}});
  if (add_special_tokens) out.push_back(special_token(special.sep));
  return out;
}

Reply tokenize(Service& service, const json& body) {
  const auto texts = texts_of(body, service.config.max_inputs);
  const bool special = ft::bool_option(body, "add_special_tokens", true);
  json out = json::array();
  for (const auto& text : texts) out.push_back(tokens_of(service.model.tokenizer(), text, special));
  return {200, out};
}

json info(const Service& service) {
  const auto& model = service.model;
  const auto& c = service.config;
  json labels = json::array();
  if (model.architecture() == model::Architecture::SequenceClassification ||
      model.architecture() == model::Architecture::TokenClassification)
    for (std::int64_t i = 0; i < model.config().num_labels; ++i) labels.push_back(model.config().label_name(i));
  return {{"model_id", model.dir()},
          {"task", model::architecture_name(model.architecture())},
          {"labels", labels},
          {"max_input_length", model.config().max_position_embeddings},
          {"precision", infer::precision_name(model.precision())},
          {"version", BERTFORGE_VERSION},
          {"max_batch_size", c.max_batch_size},
          {"max_batch_tokens", c.max_batch_tokens},
          {"max_wait_ms", c.max_wait_ms},
          {"max_queued", c.max_queued},
          {"max_client_batch_size", c.max_inputs},
          {"max_request_bytes", c.max_request_bytes},
          {"request_timeout_ms", c.request_timeout_ms},
          {"auth", !c.api_key.empty()}};
}

void write(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  res.set_content(reply.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

bool is_json(const httplib::Request& req) {
  if (!req.has_header("Content-Type")) return true;  // curl --data-binary without -H, raw clients
  const auto type = req.get_header_value("Content-Type");
  return type.rfind("application/json", 0) == 0;
}

// Everything a route's answer goes through: the key, the content type, the
// JSON, exceptions (the client's: 4xx; the server's: 500), the counters.
Reply guarded(Service& service, const httplib::Request& req, const Body& body) {
  if (!authorized(service.config.api_key, req.get_header_value("Authorization")))
    return error_reply(401, "missing or wrong API key (Authorization: Bearer <key>)", "Unauthorized");
  if (!is_json(req)) return error_reply(415, "Content-Type must be application/json", "Validation");
  json parsed;
  try {
    parsed = json::parse(req.body);
  } catch (const json::parse_error& e) {
    return error_reply(400, std::string("malformed JSON: ") + e.what(), "Validation");
  }
  try {
    return body(service, parsed);
  } catch (const std::exception& e) {
    return reply_of(e);
  }
}

void post(httplib::Server& server, Service& service, const std::string& route, Body body) {
  server.Post(route, [&service, route, body](const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    const auto reply = guarded(service, req, body);
    write(res, reply);
    service.metrics.count_request(route, reply.status, std::chrono::duration<double>(Clock::now() - start).count());
  });
}

// GET routes: /health needs no key (liveness probes carry none).
void get(httplib::Server& server, Service& service, const std::string& route,
         std::function<void(Service&, httplib::Response&)> answer) {
  server.Get(route, [&service, route, answer](const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    if (route != "/health" && !authorized(service.config.api_key, req.get_header_value("Authorization"))) {
      write(res, error_reply(401, "missing or wrong API key (Authorization: Bearer <key>)", "Unauthorized"));
    } else {
      answer(service, res);
    }
    service.metrics.count_request(route, res.status, std::chrono::duration<double>(Clock::now() - start).count());
  });
}

// httplib answers unrouted requests and its own limits (413, 400) with an
// empty body: give them TEI's, and 405 to a known path with the wrong method.
// (httplib calls this for every status >= 400; a route's own answer has a body.)
void add_error_handler(httplib::Server& server, Service& service) {
  server.set_error_handler([&service](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const bool known = kPostRoutes.count(req.path) > 0 || kGetRoutes.count(req.path) > 0;
    if (res.status == 404 && known) {
      res.status = 405;
      res.set_header("Allow", kPostRoutes.count(req.path) ? "POST" : "GET");
    }
    std::string message = "the request could not be read (HTTP " + std::to_string(res.status) + ")";
    if (res.status == 413)
      message = "the body is over the limit of " + std::to_string(service.config.max_request_bytes) + " bytes";
    if (res.status == 404) message = "no route " + req.path;
    if (res.status == 405) message = req.method + " is not allowed on " + req.path;
    write(res, error_reply(res.status, message, res.status >= 500 ? "Backend" : "Validation"));
    service.metrics.count_request(known ? req.path : "other", res.status, 0.0);
  });
}

}  // namespace

void add_routes(httplib::Server& server, Service& service) {
  post(server, service, "/predict", predict);
  post(server, service, "/embed", embed);
  post(server, service, "/tokenize", tokenize);
  get(server, service, "/info", [](Service& s, httplib::Response& res) { write(res, {200, info(s)}); });
  get(server, service, "/health", [](Service& s, httplib::Response& res) {
    write(res, s.stopping ? error_reply(503, "shutting down", "Unhealthy") : Reply{200, json::object()});
  });
  get(server, service, "/metrics", [](Service& s, httplib::Response& res) {
    res.set_content(s.metrics.render(s.queue.depth()), "text/plain; version=0.0.4");
  });
  add_error_handler(server, service);
}

}  // namespace bf::serve
