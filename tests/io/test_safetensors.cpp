#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <fstream>

#include "../support/shared_data.h"
#include "io/safetensors.h"
#include "util/error.h"
#include "util/fs.h"

using namespace bf;

namespace {

// A file made of a raw header length, header text and data bytes.
std::string write_raw(const std::string& dir, const std::string& name, std::uint64_t header_len,
                      const std::string& header, const std::string& data) {
  std::string blob;
  for (int i = 0; i < 8; ++i) blob.push_back(static_cast<char>((header_len >> (8 * i)) & 0xff));
  blob += header + data;
  const auto path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << blob;
  return path;
}

std::string write_header(const std::string& dir, const std::string& name, const std::string& header,
                         std::size_t data_bytes) {
  return write_raw(dir, name, header.size(), header, std::string(data_bytes, '\0'));
}

}  // namespace

TEST_CASE("safetensors round-trips every supported dtype", "[io][safetensors]") {
  const auto dir = test::temp_dir("st-roundtrip");
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"f32", torch::randn({3, 4})},
      {"f16", torch::randn({5}).to(torch::kFloat16)},
      {"bf16", torch::randn({2, 2, 2}).to(torch::kBFloat16)},
      {"i64", torch::arange(7, torch::kLong)},
      {"scalar", torch::tensor(3.5)},
      {"empty", torch::zeros({0, 3})},
      {"strided", torch::randn({4, 6}).t()},
  };
  io::save_safetensors(dir + "/m.safetensors", tensors, {{"note", "hello"}});
  io::SafetensorsReader reader(dir + "/m.safetensors");
  REQUIRE(reader.metadata().at("format") == "pt");
  REQUIRE(reader.metadata().at("note") == "hello");
  REQUIRE(reader.entries().size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    auto loaded = reader.load(name);
    REQUIRE(loaded.scalar_type() == t.scalar_type());
    REQUIRE(torch::equal(loaded, t.contiguous()));
  }
}

TEST_CASE("the reference files parse", "[io][safetensors]") {
  io::SafetensorsReader reader(test::shared_path("reference/tiny-pretrain/model.safetensors"));
  REQUIRE(reader.entries().size() == 46);
  REQUIRE(reader.entry("bert.embeddings.word_embeddings.weight").shape == std::vector<std::int64_t>{1000, 64});
}

TEST_CASE("malformed safetensors files are refused with a clear error", "[io][safetensors]") {
  const auto dir = test::temp_dir("st-bad");
  auto refused = [](const std::string& path, const std::string& fragment) {
    INFO(path);
    REQUIRE_THROWS_WITH(io::SafetensorsReader(path), Catch::Contains(path) && Catch::Contains(fragment));
  };
  const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

  SECTION("truncated data") { refused(write_header(dir, "trunc", good, 4), "past the data region"); }
  SECTION("header length past the end") { refused(write_raw(dir, "hlen", 1000, good, ""), "past the end of the file"); }
  SECTION("header of 100 MB") { refused(write_raw(dir, "huge", 100'000'000, "{}", ""), "100 MB limit"); }
  SECTION("header is not JSON") { refused(write_header(dir, "json", "{not json", 0), "not valid JSON"); }
  SECTION("header is a list") { refused(write_header(dir, "list", "[1,2]", 0), "not a JSON object"); }
  SECTION("unknown dtype") {
    refused(write_header(dir, "dtype", R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2),
            "unknown dtype 'F8'");
  }
  SECTION("size does not match the shape") {
    refused(write_header(dir, "size", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12");
  }
  SECTION("offsets out of range") {
    refused(write_header(dir, "range", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 8),
            "past the data region");
  }
  SECTION("overlapping tensors") {
    refused(write_header(dir, "overlap",
                         R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                         12),
            "overlaps");
  }
  SECTION("begin after end") {
    refused(write_header(dir, "order", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8), "begin > end");
  }
  SECTION("negative dimension") {
    refused(write_header(dir, "neg", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
            "negative dimension");
  }
  SECTION("a shape claiming more than the file") {
    refused(write_header(dir, "big",
                         R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
            "larger than the file");
  }
  SECTION("a hole in the data") {
    refused(write_header(dir, "hole", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "gap");
  }
  SECTION("missing fields") { refused(write_header(dir, "fields", R"({"a":{"dtype":"F32"}})", 0), "exactly dtype"); }
  SECTION("empty header and no data is a valid empty file") {
    REQUIRE(io::SafetensorsReader(write_header(dir, "ok", "{}", 0)).entries().empty());
  }
}

TEST_CASE("a file shorter than 8 bytes is refused", "[io][safetensors]") {
  const auto dir = test::temp_dir("st-tiny");
  std::ofstream(dir + "/x.safetensors", std::ios::binary) << "abc";
  REQUIRE_THROWS_WITH(io::SafetensorsReader(dir + "/x.safetensors"), Catch::Contains("shorter than the 8-byte"));
}
