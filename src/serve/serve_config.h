#pragma once
// How `bertforge serve` runs: one typed struct, its keys listed once in
// visit() (parsed from a YAML file's `serve:` section and from flags, checked,
// printed and documented from that one list).
#include <cstdint>
#include <string>
#include <vector>

#include "util/config_reader.h"

namespace bf::serve {

struct ServeConfig {
  std::string host = "127.0.0.1";  // loopback unless asked: the API has no TLS
  std::int64_t port = 8080;        // 0: any free port (the ready line names it)
  std::int64_t http_threads = 64;  // one per open connection; the model runs on the main thread
  std::int64_t max_batch_size = 32;
  std::int64_t max_batch_tokens = 8192;  // padded tokens per forward
  std::int64_t max_wait_ms = 5;          // a partial batch's wait for requests still being read
  std::int64_t max_queued = 256;         // requests waiting for the model; more are answered 429 at once
  std::int64_t max_request_bytes = 2000000;
  std::int64_t max_inputs = 32;  // inputs per request
  std::int64_t request_timeout_ms = 30000;
  std::int64_t read_timeout_ms = 5000;  // a client that stops sending is dropped after this
  std::int64_t keep_alive_timeout_s = 5;
  std::int64_t keep_alive_max_requests = 1000;  // then the connection is closed, so waiting ones get a thread
  std::string api_key;  // empty: no authentication (env BERTFORGE_API_KEY)
  std::string precision = "fp32";

  template <class V>
  void visit(V& v) {
    v.field("host", host);
    v.field("port", port, in_range<std::int64_t>(0, 65535));
    v.field("http_threads", http_threads, in_range<std::int64_t>(1, 1024));
    v.field("max_batch_size", max_batch_size, in_range<std::int64_t>(1, 4096));
    v.field("max_batch_tokens", max_batch_tokens, in_range<std::int64_t>(1, std::int64_t(1) << 24));
    v.field("max_wait_ms", max_wait_ms, in_range<std::int64_t>(0, 600000));
    v.field("max_queued", max_queued, in_range<std::int64_t>(1, 1000000));
    v.field("max_request_bytes", max_request_bytes, in_range<std::int64_t>(64, std::int64_t(1) << 30));
    v.field("max_inputs", max_inputs, in_range<std::int64_t>(1, 1000000));
    v.field("request_timeout_ms", request_timeout_ms, in_range<std::int64_t>(1, 3600000));
    v.field("read_timeout_ms", read_timeout_ms, in_range<std::int64_t>(1, 3600000));
    v.field("keep_alive_timeout_s", keep_alive_timeout_s, in_range<std::int64_t>(1, 3600));
    v.field("keep_alive_max_requests", keep_alive_max_requests, in_range<std::int64_t>(1, 1000000000));
    v.field("api_key", api_key);
    v.field("precision", precision, one_of({"fp32", "bf16", "int8"}));
  }
};

// One key as a flag: --max-batch-size for max_batch_size, its help and default.
struct FieldInfo {
  std::string key, flag, help, default_value;
};
// Every key of ServeConfig, in visit() order.
std::vector<FieldInfo> serve_fields();
// A markdown table of the keys (docs/serving.md holds it; a test compares).
std::string fields_markdown();

// The config: defaults, then `config_file`'s `serve:` section (when given),
// then flags as "key=value"; then BERTFORGE_API_KEY when api_key is unset.
// Errors name the key path (serve.port) and, from a file, its line.
ServeConfig read_serve_config(const std::string& config_file, const std::vector<std::string>& flag_values);

}  // namespace bf::serve
