#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace bf::cli {

// Filled in by the data pipeline work (issue 4).
void add_data_commands(CLI::App&) {}

}  // namespace bf::cli
