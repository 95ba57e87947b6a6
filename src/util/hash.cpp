#include "util/hash.h"

#include <xxhash.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "util/error.h"
#include "util/fs.h"

namespace bf {
namespace {

std::string to_hex(std::uint64_t value) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

std::string hash64_hex(std::string_view bytes) { return to_hex(hash64(bytes)); }

std::string hash_file_hex(const std::string& path) {
  notify_file_open(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot open to hash");
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(), &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    XXH3_64bits_update(state.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) fail(path + ": read error while hashing");
  return to_hex(XXH3_64bits_digest(state.get()));
}

}  // namespace bf
