#include "cli/common.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "util/error.h"
#include "util/runtime.h"

namespace bf::cli {

void add_common_options(CLI::App& cmd, CommonOptions& options) {
  cmd.add_option("--threads", options.threads, "Intra-op threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd.add_option("--log-level", options.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

void apply_common_options(const CommonOptions& options) {
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  bf::set_threads(options.threads);
}

}  // namespace bf::cli
