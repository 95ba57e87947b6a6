#pragma once
// What the server answers: a status and a JSON body. Errors carry
// text-embeddings-inference's body, {"error": "...", "error_type": "..."},
// so TEI's clients read them; the status says whose fault it is.
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

namespace bf::serve {

struct Reply {
  int status = 200;
  nlohmann::json body;
};

// error_type: Validation (the request), Unauthorized, Overloaded (queue full,
// timed out), Backend (the model failed), Unhealthy (shutting down).
Reply error_reply(int status, const std::string& message, const std::string& error_type);

// The answer to an exception thrown while a request was read or answered:
// infer::RequestError is the client's (422, or 413 when too large), a JSON
// type or parse error too (422); anything else is the server's (500).
Reply reply_of(const std::exception& e);

}  // namespace bf::serve
