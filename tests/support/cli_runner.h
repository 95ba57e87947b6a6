#pragma once
// Runs the bertforge binary (path from BERTFORGE_BIN, set by ctest) as a user would.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace bf::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline std::string bertforge_bin() {
  const char* bin = std::getenv("BERTFORGE_BIN");
  const std::string path = bin != nullptr ? bin : std::string(BERTFORGE_BUILD_DIR) + "/bertforge";
  INFO("the CLI tests run " << path);
  REQUIRE(std::system(("test -x '" + path + "'").c_str()) == 0);
  return path;
}

inline CommandResult run_bertforge(const std::string& args, const std::string& stdin_text = "") {
  std::string command = "'" + bertforge_bin() + "' " + args + " 2>&1";
  if (!stdin_text.empty()) command = "printf '%s' '" + stdin_text + "' | " + command;
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace bf::test
