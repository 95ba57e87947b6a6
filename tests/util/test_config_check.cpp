#include <catch2/catch.hpp>

#include <algorithm>

#include "util/config_check.h"

namespace {

struct Inner {
  double rate = 0.5;
  template <class V>
  void visit(V& v) {
    v.field("rate", rate, bf::in_range<double>(0.0, 1.0));
  }
};

struct Outer {
  std::int64_t max_seq_length = 128;
  std::string train;
  std::string dev;
  Inner inner;
  template <class V>
  void visit(V& v) {
    v.field("max_seq_length", max_seq_length, bf::in_range<std::int64_t>(8, 1024));
    v.field("train", train);
    v.field("dev", dev);
    v.section("inner", inner);
    if (!train.empty() && dev.empty()) v.invalid("dev", "required when train is set");
  }
};

std::string as_flag(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return "--" + key;
}

}  // namespace

TEST_CASE("check_config applies a section's own checks to values set in memory", "[util][config]") {
  Outer ok;
  CHECK_NOTHROW(bf::check_config(ok, "options", as_flag));

  Outer bad;
  bad.max_seq_length = 4;
  bad.train = "train.tsv";
  bad.inner.rate = 2;
  try {
    bf::check_config(bad, "test options", as_flag);
    FAIL("no error");
  } catch (const std::exception& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("invalid test options"));
    CHECK_THAT(message, Catch::Contains("--max-seq-length"));
    CHECK_THAT(message, Catch::Contains("--dev: required when train is set"));
    CHECK_THAT(message, Catch::Contains("--inner.rate"));  // sections prefix their keys
  }
}
