#include "serve/auth.h"

namespace bf::serve {

bool authorized(const std::string& api_key, const std::string& authorization) {
  if (api_key.empty()) return true;
  const std::string prefix = "Bearer ";
  if (authorization.size() != prefix.size() + api_key.size() || authorization.compare(0, prefix.size(), prefix) != 0)
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < api_key.size(); ++i)
    diff |= static_cast<unsigned char>(authorization[prefix.size() + i] ^ api_key[i]);
  return diff == 0;
}

}  // namespace bf::serve
