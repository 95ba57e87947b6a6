#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace bf::cli {

// Filled in by the tokenizer work (issue 3).
void add_tokenizer_commands(CLI::App&) {}

}  // namespace bf::cli
