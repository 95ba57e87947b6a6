#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace bf::cli {
void add_model_commands(CLI::App&) {}
}  // namespace bf::cli
