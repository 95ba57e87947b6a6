#pragma once
// `bertforge serve`: a model directory behind HTTP/1.1 (cpp-httplib: keep-
// alive, a fixed thread pool, body limits, read timeouts) with one worker
// thread owning the model. Prints the address and a ready line; SIGTERM or
// SIGINT stops accepting, answers what is queued, and returns.
#include <string>

#include "serve/serve_config.h"

namespace bf::serve {

void run_server(const std::string& model_dir, const ServeConfig& config);

}  // namespace bf::serve
