#include "serve/reply.h"

#include "infer/request_error.h"

namespace bf::serve {

Reply error_reply(int status, const std::string& message, const std::string& error_type) {
  return {status, {{"error", message}, {"error_type", error_type}}};
}

Reply reply_of(const std::exception& e) {
  if (const auto* r = dynamic_cast<const infer::RequestError*>(&e))
    return error_reply(r->kind() == infer::RequestError::Kind::TooLarge ? 413 : 422, r->what(), "Validation");
  // A typed request reading a field of the wrong type through nlohmann's get<>.
  if (dynamic_cast<const nlohmann::json::exception*>(&e) != nullptr)
    return error_reply(422, std::string("invalid request: ") + e.what(), "Validation");
  return error_reply(500, e.what(), "Backend");
}

}  // namespace bf::serve
