#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../support/shared_data.h"
#include "model/any_bert.h"
#include "train/checkpoint.h"
#include "util/fs.h"

using namespace bf;
namespace fs = std::filesystem;

namespace {

std::string write_one(const std::string& dir, std::int64_t step, const std::string& keep = "",
                      std::int64_t keep_last = 10) {
  auto config = model::BertConfig::preset("tiny");
  config.vocab_size = 100;
  config.hidden_size = 16;
  config.num_attention_heads = 2;
  config.intermediate_size = 32;
  auto net = model::make_model(config, model::Architecture::PreTraining);
  train::CheckpointContents c;
  c.model = net.get();
  c.model_config = &config;
  c.optimizer_tensors = {{"exp_avg/x", torch::ones({3})}};
  c.optimizer_state = {{"steps", step}};
  c.rng_tensors = {{"cpu", torch::zeros({4}, torch::kUInt8)}};
  c.trainer_state = {{"data", {{"epoch", 0}, {"position", step * 4}}}};
  c.run_config_yaml = "run: {}\n";
  c.keep = keep;
  train::CheckpointWriter writer(dir + "/checkpoints", keep_last);
  return writer.write(step, c);
}

void flip_byte(const std::string& path, std::uintmax_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

}  // namespace

TEST_CASE("a checkpoint round-trips and verifies", "[train][checkpoint]") {
  const auto dir = test::temp_dir("ckpt-ok");
  const auto path = write_one(dir, 12);
  REQUIRE(fs::path(path).filename() == "step-00000012");
  auto loaded = train::read_checkpoint(path);
  REQUIRE(loaded.trainer_state["step"] == 12);
  REQUIRE(loaded.trainer_state["data"]["position"] == 48);
  REQUIRE(torch::equal(loaded.optimizer_tensors.at("exp_avg/x"), torch::ones({3})));
  REQUIRE(train::find_latest_checkpoint(dir) == path);
  REQUIRE(bf::read_file(dir + "/checkpoints/latest") == "step-00000012\n");
}

TEST_CASE("corrupt checkpoints are detected on load, naming the file", "[train][checkpoint]") {
  const auto dir = test::temp_dir("ckpt-bad");
  const auto path = write_one(dir, 3);
  const auto weights = path + "/model.safetensors";
  SECTION("truncated file") {
    fs::resize_file(weights, fs::file_size(weights) - 10);
    REQUIRE_THROWS_WITH(train::read_checkpoint(path), Catch::Contains("model.safetensors") && Catch::Contains("truncated"));
  }
  SECTION("flipped byte") {
    flip_byte(weights, fs::file_size(weights) - 5);
    REQUIRE_THROWS_WITH(train::read_checkpoint(path), Catch::Contains("model.safetensors") && Catch::Contains("checksum"));
  }
  SECTION("missing file") {
    fs::remove(path + "/optimizer.safetensors");
    REQUIRE_THROWS_WITH(train::read_checkpoint(path), Catch::Contains("'optimizer.safetensors' is missing"));
  }
  SECTION("no manifest: a partial directory") {
    fs::remove(path + "/manifest.json");
    REQUIRE_THROWS_WITH(train::read_checkpoint(path), Catch::Contains("not a complete checkpoint"));
  }
}

TEST_CASE("keep the last K and the one the best tracker names", "[train][checkpoint]") {
  const auto dir = test::temp_dir("ckpt-keep");
  write_one(dir, 1, "", 2);
  write_one(dir, 2, "step-00000002", 2);  // best
  write_one(dir, 3, "step-00000002", 2);
  write_one(dir, 4, "step-00000002", 2);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir + "/checkpoints"))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  REQUIRE(names == std::vector<std::string>{"step-00000002", "step-00000003", "step-00000004"});
  REQUIRE(bf::read_file(dir + "/checkpoints/best") == "step-00000002\n");
}

TEST_CASE("leftovers of a crashed write are never taken for a checkpoint", "[train][checkpoint]") {
  const auto dir = test::temp_dir("ckpt-tmp");
  const auto good = write_one(dir, 5);
  fs::create_directories(dir + "/checkpoints/.tmp-step-00000009");
  std::ofstream(dir + "/checkpoints/.tmp-step-00000009/model.safetensors") << "partial";
  REQUIRE(train::find_latest_checkpoint(dir) == good);
  write_one(dir, 6);
  REQUIRE_FALSE(fs::exists(dir + "/checkpoints/.tmp-step-00000009"));
}
