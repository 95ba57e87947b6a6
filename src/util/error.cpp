#include "util/error.h"

namespace bf {

void fail(const std::string& message) { throw Error(message); }

void fail_at(const std::string& where, const std::string& message) {
  throw Error(where + ": " + message);
}

}  // namespace bf
