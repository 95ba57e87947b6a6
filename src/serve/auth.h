#pragma once
// Bearer tokens: with an API key set, a request must carry
// `Authorization: Bearer <key>` or is answered 401.
#include <string>

namespace bf::serve {

// True when no key is set or `authorization` (the header's value) carries it.
// Compared in constant time, so the answer's timing does not spell the key.
bool authorized(const std::string& api_key, const std::string& authorization);

}  // namespace bf::serve
