// bertforge: one CLI for tokenizers, data, pretraining, fine-tuning and tools.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "util/error.h"

#ifdef BF_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

int main(int argc, char** argv) {
#ifdef BF_TCMALLOC
  // tcmalloc hands freed spans back to the kernel as it goes (its release
  // rate). Training frees and re-allocates the same activations every step,
  // so whatever it released is faulted in and zeroed again the next step: up
  // to 290,000 faults (1.2 GB) per base step, depending on the order of frees
  // (docs/performance.md). The peak working set is held anyway: keep it.
  MallocExtension::instance()->SetMemoryReleaseRate(0);
#endif
  CLI::App app{"bertforge: BERT pretraining and fine-tuning in C++ on LibTorch", "bertforge"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  bf::cli::add_version_command(app);
  bf::cli::add_model_commands(app);
  bf::cli::add_tokenizer_commands(app);
  bf::cli::add_data_commands(app);
  bf::cli::add_train_commands(app);
  bf::cli::add_finetune_commands(app);
  bf::cli::add_bench_commands(app);
  bf::cli::add_launch_command(app);
  bf::cli::add_probe_command(app);
  bf::cli::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const bf::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error (torch): %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
