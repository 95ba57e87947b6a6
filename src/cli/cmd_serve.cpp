// bertforge serve
#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "serve/server.h"

namespace bf::cli {

void add_serve_command(CLI::App& app) {
  struct Flags {
    std::string model, config;
    std::map<std::string, std::string> values;  // key -> value, only the flags given
    CommonOptions common;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("serve", "Serve a model over HTTP: /predict, /embed, /tokenize, /info, /health, /metrics");
  cmd->add_option("--model", f->model, "A model directory (fine-tuned: /predict; any: /embed)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--config", f->config, "A YAML file whose serve: section sets any key below")->check(CLI::ExistingFile);
  // One flag per key of ServeConfig, from its field list (checked there).
  for (const auto& field : serve::serve_fields())
    cmd->add_option_function<std::string>(
        field.flag, [f, key = field.key](const std::string& v) { f->values[key] = v; },
        field.help + " (default " + (field.default_value.empty() ? "none" : field.default_value) + ")");
  add_common_options(*cmd, f->common);
  cmd->callback([f] {
    apply_common_options(f->common);
    std::vector<std::string> values;
    for (const auto& [key, value] : f->values) values.push_back(key + "=" + value);
    serve::run_server(f->model, serve::read_serve_config(f->config, values));
  });
}

}  // namespace bf::cli
