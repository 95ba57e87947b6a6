#pragma once
// The HTTP API, shaped as text-embeddings-inference's so its clients work:
// POST /predict (the model's head), /embed, /tokenize; GET /info, /health,
// /metrics. Every answer is JSON (metrics: Prometheus text); errors carry
// {"error", "error_type"} (serve/reply.h).
namespace httplib {
class Server;
}

namespace bf::serve {

struct Service;

void add_routes(httplib::Server& server, Service& service);

}  // namespace bf::serve
