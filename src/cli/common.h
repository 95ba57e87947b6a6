#pragma once
// Options and set-up shared by the commands.
#include <string>

namespace CLI {
class App;
class Option;
}

namespace bf::cli {

// Adds --threads N (0 = all cores) and --log-level to a command.
struct CommonOptions {
  int threads = 0;
  std::string log_level = "info";
};
void add_common_options(CLI::App& cmd, CommonOptions& options);
// Applies them: thread count, log level.
void apply_common_options(const CommonOptions& options);

}  // namespace bf::cli
