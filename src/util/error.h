#pragma once
// One exception type for every user-facing failure. Messages always name what
// was wrong and where (file, line, key), so the CLI can print them verbatim.
#include <stdexcept>
#include <string>

namespace bf {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws bf::Error; the message says where (file, line, key) itself, e.g.
// "config.yaml:12: optimizer.lr: must be > 0".
[[noreturn]] void fail(const std::string& message);

}  // namespace bf
