#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cstdio>

#include "cli/commands.h"
#include "util/runtime.h"

namespace bf::cli {

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print bertforge, LibTorch and machine information");
  cmd->callback([] {
    std::printf("bertforge %s\n", BERTFORGE_VERSION);
    std::printf("libtorch %s\n", TORCH_VERSION);
    std::printf("cuda available: %s\n", torch::cuda::is_available() ? "yes" : "no");
    std::printf("cores: %d\n", bf::available_cores());
  });
}

}  // namespace bf::cli
