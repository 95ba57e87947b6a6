#include "serve/serve_config.h"

#include <cstdlib>
#include <map>
#include <sstream>

#include "util/error.h"

namespace bf::serve {
namespace {

// The help of each key, for flags and the docs' table; keyed by name so that
// visit() stays the one list of keys (a key without help fails the test).
const std::map<std::string, std::string>& help_texts() {
  static const std::map<std::string, std::string> help = {
      {"host", "Address to listen on (0.0.0.0: every interface)"},
      {"port", "Port; 0 picks a free one (the ready line names it)"},
      {"http_threads", "Connections served at once (each holds a thread while open; more wait their turn)"},
      {"max_batch_size", "Sequences per forward"},
      {"max_batch_tokens", "Padded tokens per forward (sequences x longest)"},
      {"max_wait_ms", "How long a partial batch waits for requests still being read before it runs"},
      {"max_queued", "Requests waiting for the model; one more is answered 429 at once"},
      {"max_request_bytes", "Largest request body; larger is answered 413"},
      {"max_inputs", "Inputs per request; more are answered 413"},
      {"request_timeout_ms", "A request not answered in this time is answered 503"},
      {"read_timeout_ms", "A client that sends nothing for this long is disconnected"},
      {"keep_alive_timeout_s", "An idle keep-alive connection is closed after this"},
      {"keep_alive_max_requests", "Requests one connection may send before the server closes it"},
      {"api_key", "Bearer token every route but /health requires (default: env BERTFORGE_API_KEY)"},
      {"precision", "fp32, bf16 (fast with AVX512_BF16/AMX) or int8"},
  };
  return help;
}

// Collects each key and its default from visit().
struct FieldLister {
  std::vector<FieldInfo> fields;
  template <class T>
  void field(const std::string& key, T& value, Check<T> = {}) {
    std::ostringstream os;
    os << value;
    std::string flag = "--" + key;
    for (auto& c : flag)
      if (c == '_') c = '-';
    const auto it = help_texts().find(key);
    fields.push_back({key, flag, it == help_texts().end() ? "" : it->second, os.str()});
  }
};

// The keys of `node` checked into `config`; every problem in one error.
void read_section(const YAML::Node& node, const std::string& where, ServeConfig& config) {
  std::vector<std::string> errors;
  if (node && !node.IsNull() && !node.IsMap()) bf::fail(where + ": serve: must be a mapping");
  ConfigReader reader(node, where, "serve.", &errors);
  config.visit(reader);
  reader.finish();
  if (errors.empty()) return;
  std::string message = "invalid serve settings:";
  for (const auto& e : errors) message += "\n  " + e;
  bf::fail(message);
}

}  // namespace

std::vector<FieldInfo> serve_fields() {
  ServeConfig defaults;
  FieldLister lister;
  defaults.visit(lister);
  return lister.fields;
}

std::string fields_markdown() {
  std::string out = "| YAML key (`serve:`) | flag | default | meaning |\n|---|---|---|---|\n";
  for (const auto& f : serve_fields())
    out += "| `" + f.key + "` | `" + f.flag + "` | " + (f.default_value.empty() ? "(none)" : "`" + f.default_value + "`") +
           " | " + f.help + " |\n";
  return out;
}

ServeConfig read_serve_config(const std::string& config_file, const std::vector<std::string>& flag_values) {
  ServeConfig config;
  YAML::Node section(YAML::NodeType::Map);
  if (!config_file.empty()) {
    const auto root = load_yaml_file(config_file);
    if (root && !root.IsNull() && !root.IsMap()) bf::fail(config_file + ": the top level must be a mapping");
    if (root && root["serve"]) section = root["serve"];
    read_section(section, config_file, config);  // the file's own mistakes name its lines
  }
  // Flags as plain strings: yaml-cpp converts a scalar when it is read, so an
  // api key with YAML syntax in it stays a string.
  for (const auto& item : flag_values) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) bf::fail("serve flag " + item + ": expected key=value");
    section[item.substr(0, eq)] = item.substr(eq + 1);
  }
  read_section(section, config_file.empty() ? "flags" : config_file + " and flags", config);
  if (config.api_key.empty())
    if (const char* key = std::getenv("BERTFORGE_API_KEY")) config.api_key = key;
  return config;
}

}  // namespace bf::serve
