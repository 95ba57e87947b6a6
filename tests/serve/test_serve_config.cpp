#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "serve/serve_config.h"
#include "util/error.h"

using namespace bf;

TEST_CASE("the shipped configs/serve.yaml reads, and flags beside it win", "[serve][config]") {
  const std::string file = std::string(BERTFORGE_SOURCE_DIR) + "/configs/serve.yaml";
  const auto config = serve::read_serve_config(file, {"port=9001"});
  CHECK(config.port == 9001);
  CHECK(config.host == "127.0.0.1");
  CHECK(config.max_batch_size == 32);
  CHECK(config.max_wait_ms == 5);
  CHECK(config.precision == "fp32");
}

TEST_CASE("serve settings come from defaults, a YAML serve: section and flags, errors naming the key",
          "[serve][config]") {
  const auto defaults = serve::read_serve_config("", {});
  CHECK(defaults.port == 8080);
  CHECK(defaults.host == "127.0.0.1");
  const auto flags = serve::read_serve_config("", {"port=0", "max_batch_size=4", "api_key=a: *b"});
  CHECK(flags.port == 0);
  CHECK(flags.max_batch_size == 4);
  CHECK(flags.api_key == "a: *b");
  try {
    serve::read_serve_config("", {"max_wait_ms=-1"});
    FAIL("expected an error");
  } catch (const bf::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("serve.max_wait_ms"));
  }
  try {
    serve::read_serve_config("", {"max_batch_sise=4"});
    FAIL("expected an error");
  } catch (const bf::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("max_batch_size"));  // did you mean
  }
  const std::string file = std::string(BERTFORGE_BUILD_DIR) + "/serve_config_test.yaml";
  std::ofstream(file) << "other: 1\nserve:\n  port: 9000\n  precision: bf16\n  max_queued: zero\n";
  try {
    serve::read_serve_config(file, {});
    FAIL("expected an error");
  } catch (const bf::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains(file + ":5: serve.max_queued"));
  }
  std::ofstream(file) << "serve:\n  port: 9000\n  precision: bf16\n";
  const auto both = serve::read_serve_config(file, {"port=9001"});
  CHECK(both.port == 9001);
  CHECK(both.precision == "bf16");
}

TEST_CASE("docs/serving.md lists every serve key as the field list prints it", "[serve][config]") {
  std::ifstream in(std::string(BERTFORGE_SOURCE_DIR) + "/docs/serving.md");
  std::stringstream text;
  text << in.rdbuf();
  INFO("docs/serving.md's table should be:\n" << serve::fields_markdown());
  CHECK(text.str().find(serve::fields_markdown()) != std::string::npos);
  for (const auto& f : serve::serve_fields()) CHECK(!f.help.empty());
}
