#include "serve/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <memory>
#include <thread>

#include "finetune/tasks.h"
#include "io/hf_model.h"
#include "serve/batch_worker.h"
#include "serve/routes.h"
#include "serve/service.h"
#include "serve/shutdown_signal.h"
#include "util/error.h"

namespace bf::serve {
namespace {

bool has_task_head(model::Architecture architecture) {
  return architecture == model::Architecture::SequenceClassification ||
         architecture == model::Architecture::TokenClassification ||
         architecture == model::Architecture::QuestionAnswering;
}

// A fine-tuned directory as its head; any other (pretrained, a bare encoder)
// as its encoder, for /embed and /tokenize.
infer::Model open_for_serving(const std::string& dir, const ServeConfig& config) {
  const auto architecture = model::architecture_of(io::load_model_config(dir));
  auto model = has_task_head(architecture) ? ft::open_model(dir) : infer::Model::open_encoder(dir);
  model.set_precision(infer::parse_precision(config.precision, "serve.precision"));
  return model;
}

// The head's typed request (finetune's task table), with this server's limits.
PredictRequest predict_request_of(const infer::Model& model, const ServeConfig& config) {
  if (!has_task_head(model.architecture())) return {};
  const auto request = ft::task_entry(model.architecture(), model.dir()).request;
  const ft::RequestLimits limits{config.max_inputs};
  return [request, limits](infer::Model& m, const nlohmann::json& body) { return request(m, body, limits); };
}

void configure(httplib::Server& server, const ServeConfig& config) {
  const auto threads = static_cast<std::size_t>(config.http_threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(static_cast<std::size_t>(config.max_request_bytes));
  server.set_read_timeout(std::chrono::milliseconds(config.read_timeout_ms));
  server.set_write_timeout(std::chrono::milliseconds(config.read_timeout_ms));
  server.set_keep_alive_timeout(config.keep_alive_timeout_s);
  server.set_keep_alive_max_count(static_cast<std::size_t>(config.keep_alive_max_requests));
  server.set_tcp_nodelay(true);
}

int bind(httplib::Server& server, const ServeConfig& config) {
  // cpp-httplib's default options set SO_REUSEPORT, which would let a second
  // server on the same port silently take half the connections: reuse the
  // address only (a restart need not wait out TIME_WAIT).
  auto listening = std::make_shared<int>(-1);
  server.set_socket_options([listening](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listening = sock;
  });
  const int port = config.port == 0 ? server.bind_to_any_port(config.host)
                                    : (server.bind_to_port(config.host, static_cast<int>(config.port))
                                           ? static_cast<int>(config.port)
                                           : -1);
  if (port <= 0) bf::fail("serve: cannot listen on " + config.host + ":" + std::to_string(config.port));
  // Debian's cpp-httplib 0.11 is compiled with a listen backlog of 5: many
  // clients connecting at once overflow it and the kernel drops their
  // handshakes (each retried a second later). listen() again raises it.
  if (*listening >= 0) ::listen(*listening, SOMAXCONN);
  return port;
}

}  // namespace

void run_server(const std::string& model_dir, const ServeConfig& config) {
  auto model = open_for_serving(model_dir, config);
  Metrics metrics;
  BatchQueue queue(static_cast<std::size_t>(config.max_queued),
                   {config.max_batch_size, config.max_batch_tokens, std::chrono::milliseconds(config.max_wait_ms)});
  Service service{model, config, queue, metrics, predict_request_of(model, config)};
  BatchWorker worker(model, queue, metrics, {config.max_batch_size, config.max_batch_tokens});
  httplib::Server server;
  configure(server, config);
  add_routes(server, service);
  const int port = bind(server, config);
  spdlog::info("serve: {} ({}, {}) on http://{}:{}", model_dir, model::architecture_name(model.architecture()),
               config.precision, config.host, port);
  ShutdownSignal on_signal([&] {
    spdlog::info("serve: stopping: no new connections; answering what is queued");
    service.stopping = true;
    server.stop();
  });
  spdlog::info("ready: http://{}:{}", config.host, port);
  // HTTP on a thread of its own; the forwards on this one, which opened the
  // model (BatchWorker::run says why).
  std::thread http([&] {
    server.listen_after_bind();  // returns once stopped and every connection's thread is done
    queue.close();
  });
  try {
    worker.run();
  } catch (...) {
    server.stop();
    http.join();
    throw;
  }
  http.join();
  spdlog::info("serve: stopped");
}

}  // namespace bf::serve
