#include "util/error.h"

namespace bf {

void fail(const std::string& message) { throw Error(message); }


}  // namespace bf
