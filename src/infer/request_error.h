#pragma once
// A request that cannot be answered as sent, and which of its fields is
// wrong. The typed requests of every head throw it while they read and
// prepare their inputs (before anything runs), so a caller can answer it as
// the client's mistake: the server maps Invalid to 422 and TooLarge to 413,
// as text-embeddings-inference does.
#include <string>
#include <utility>

#include "util/error.h"

namespace bf::infer {

class RequestError : public bf::Error {
 public:
  enum class Kind {
    Invalid,   // a missing or wrong field, an empty input, bad UTF-8
    TooLarge,  // too many inputs, or an input over the model's length with truncate: false
  };
  RequestError(Kind kind, std::string field, const std::string& message)
      : bf::Error(field.empty() ? message : field + ": " + message), kind_(kind), field_(std::move(field)) {}

  Kind kind() const { return kind_; }
  const std::string& field() const { return field_; }  // e.g. "inputs[3]", "inputs.context"

 private:
  Kind kind_;
  std::string field_;
};

}  // namespace bf::infer
