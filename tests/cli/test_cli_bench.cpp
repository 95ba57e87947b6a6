#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/shared_data.h"
#include "../support/cli_runner.h"
#include "bench/flops.h"
#include "model/bert_config.h"
#include "util/fs.h"

using namespace bf;

TEST_CASE("bench train prints the step figures and writes them as JSON", "[cli][bench]") {
  const auto dir = test::temp_dir("cli-bench-train");
  auto r = test::run_bertforge("bench train --preset tiny --batch 2 --seq 16 --steps 2 --warmup 1 --threads 1 --json " +
                               dir + "/train.json");
  REQUIRE(r.exit_code == 0);
  REQUIRE_THAT(r.output, Catch::Contains("GEMM peak") && Catch::Contains("median step") &&
                             Catch::Contains("tokens/s") && Catch::Contains("peak resident memory"));
  const auto j = nlohmann::json::parse(read_file(dir + "/train.json"));
  CHECK(j["tokens_per_s"].get<double>() > 0);
  CHECK(j["gemm_peak_fp32_gflops"].get<double>() > 0);
  // The peak is sampled twice right before the timed steps and twice after each.
  CHECK(j["gemm_peak_samples"] == 2 + 2 * 2);
  CHECK(j["gemm_peak_fp32_min_gflops"].get<double>() <= j["gemm_peak_fp32_gflops"].get<double>());
  CHECK(j["gemm_peak_fp32_gflops"].get<double>() <= j["gemm_peak_fp32_max_gflops"].get<double>());
  CHECK(j["peak_rss_gib"].get<double>() > 0);
  // Faults per step are the steps' median, so never above their total.
  CHECK(j["minor_faults_per_step"].get<double>() <= j["minor_faults_total"].get<double>());
  // 2 x 16 tokens, 13 non-special positions per row, 15 % of them (2) labelled.
  const auto c = model::BertConfig::preset("tiny");
  CHECK(j["step_gflop"].get<double>() == Approx(bench::pretraining_step_flops(c, 2, 16, 4).total() / 1e9));
  CHECK(j["peer_step_gflop"].get<double>() == Approx(bench::pretraining_step_flops(c, 2, 16, 32).total() / 1e9));
}

TEST_CASE("bench infer compares dynamic padding with fixed padding", "[cli][bench]") {
  const auto dir = test::temp_dir("cli-bench-infer");
  auto r = test::run_bertforge("bench infer --preset tiny --max-texts 16 --batch 8 --pad-to 64 --repeat 1 --threads 1 "
                               "--json " + dir + "/infer.json");
  REQUIRE(r.exit_code == 0);
  REQUIRE_THAT(r.output, Catch::Contains("dynamic padding") && Catch::Contains("padded to 64"));
  const auto j = nlohmann::json::parse(read_file(dir + "/infer.json"));
  CHECK(j["texts"] == 16);
  CHECK(j["dynamic_sequences_per_s"].get<double>() > 0);
  CHECK(j["padded_sequences_per_s"].get<double>() > 0);
}

TEST_CASE("bench rejects a sequence longer than the model's positions", "[cli][bench]") {
  auto r = test::run_bertforge("bench train --preset tiny --seq 100000 --steps 1");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("--seq 100000"));
}
