#include "dist/dist_env.h"

#include <cstdlib>
#include <string>

#include "util/error.h"

namespace bf::dist {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int int_env(const char* name, int fallback, bool required) {
  const char* v = env(name);
  if (!v) {
    if (required) bf::fail(std::string("distributed: WORLD_SIZE is set but ") + name + " is not");
    return fallback;
  }
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || x < 0 || x > 1 << 20)
    bf::fail(std::string("distributed: ") + name + "=" + v + " is not a non-negative integer");
  return static_cast<int>(x);
}

}  // namespace

DistEnv DistEnv::from_environment() {
  DistEnv e;
  if (!env("WORLD_SIZE")) return e;
  e.world_size = int_env("WORLD_SIZE", 1, true);
  if (e.world_size < 1) bf::fail("distributed: WORLD_SIZE must be >= 1");
  if (e.world_size == 1) return e;
  e.rank = int_env("RANK", 0, true);
  if (e.rank >= e.world_size)
    bf::fail("distributed: RANK=" + std::to_string(e.rank) + " is not below WORLD_SIZE=" + std::to_string(e.world_size));
  e.local_rank = int_env("LOCAL_RANK", e.rank, false);
  e.local_world_size = int_env("LOCAL_WORLD_SIZE", e.world_size, false);
  if (e.local_world_size < 1) e.local_world_size = 1;
  if (const char* a = env("MASTER_ADDR")) e.master_addr = a;
  e.master_port = int_env("MASTER_PORT", 29500, false);
  if (e.master_port < 1 || e.master_port > 65535)
    bf::fail("distributed: MASTER_PORT=" + std::to_string(e.master_port) + " is not a TCP port");
  return e;
}

}  // namespace bf::dist
