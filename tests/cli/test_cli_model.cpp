#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include "../support/shared_data.h"
#include "../support/tensor_match.h"
#include "../support/cli_runner.h"
#include "io/safetensors.h"
#include "util/fs.h"

using namespace bf;

TEST_CASE("help lists every command", "[cli]") {
  auto r = test::run_bertforge("--help");
  REQUIRE(r.exit_code == 0);
  for (const char* cmd : {"version", "model", "tokenizer", "data", "pretrain", "validate-config"})
    REQUIRE_THAT(r.output, Catch::Contains(cmd));
  auto v = test::run_bertforge("version");
  REQUIRE(v.exit_code == 0);
  REQUIRE_THAT(v.output, Catch::Contains("bertforge 0.1.0"));
  REQUIRE(test::run_bertforge("no-such-command").exit_code != 0);
}

TEST_CASE("model forward reproduces HF's outputs of all four architectures from the command line", "[cli][reference]") {
  const auto dir = test::temp_dir("cli-forward");
  for (const std::string name : {"tiny-pretrain", "tiny-cls", "tiny-tokcls", "tiny-qa"}) {
    const auto ref = test::shared_path("reference/" + name);
    const auto out = dir + "/" + name + ".safetensors";
    auto r = test::run_bertforge("model forward --model " + ref + " --input " + ref + "/input.json --output " + out);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    io::SafetensorsReader expected(ref + "/expected.safetensors");
    io::SafetensorsReader actual(out);
    for (const auto& e : expected.entries()) {
      INFO(name << ": " << e.name);
      REQUIRE(actual.contains(e.name));
      test::require_close(actual.load(e.name), expected.load(e.name), 1e-5, 1e-4, e.name);
    }
  }
}

TEST_CASE("model init is reproducible from its seed and inspect describes it", "[cli]") {
  const auto dir = test::temp_dir("cli-init");
  for (const char* out : {"a", "b"}) {
    auto r = test::run_bertforge(std::string("model init --preset tiny --vocab-size 1000 --seed 5 --out ") + dir + "/" +
                                 out);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
  }
  REQUIRE(read_file(dir + "/a/model.safetensors") == read_file(dir + "/b/model.safetensors"));
  auto r = test::run_bertforge("model inspect " + dir + "/a");
  REQUIRE(r.exit_code == 0);
  REQUIRE_THAT(r.output, Catch::Contains("BertForPreTraining") && Catch::Contains("bert.encoder") &&
                             Catch::Contains("\"hidden_size\": 128"));
}

TEST_CASE("bad input gives a clear error and exit code 1", "[cli]") {
  const auto dir = test::temp_dir("cli-errors");
  auto missing = test::run_bertforge("model forward --model " + dir + "/nope --input x.json --output y.safetensors");
  REQUIRE(missing.exit_code == 1);
  REQUIRE_THAT(missing.output, Catch::Contains("error:") && Catch::Contains(dir + "/nope"));
  auto bad_preset = test::run_bertforge("model init --preset huge --out " + dir + "/m");
  REQUIRE(bad_preset.exit_code != 0);
  REQUIRE_THAT(bad_preset.output, Catch::Contains("huge"));
  write_file_atomic(dir + "/run.yaml", "run: {output_dir: " + dir + "/run}\ntokenizer: " + dir +
                                           "/missing-tok\ndata: {output: " + dir +
                                           "/shards}\ntraining: {max_steps: 1, batch_sise: 3}\n");
  auto bad_config = test::run_bertforge("validate-config " + dir + "/run.yaml");
  REQUIRE(bad_config.exit_code == 1);
  REQUIRE_THAT(bad_config.output, Catch::Contains("training.batch_sise: unknown key") &&
                                      Catch::Contains("did you mean 'training.batch_size'"));
}

TEST_CASE("validate-config reads fine-tuning configs too", "[cli]") {
  const auto dir = test::temp_dir("cli-validate-ft");
  write_file_atomic(dir + "/ft.yaml", "run: {output_dir: " + dir + "/run}\nmodel: {preset: tiny}\n"
                                      "data: {train: " + dir + "/train.tsv, text_colum: sentence}\n");
  auto typo = test::run_bertforge("validate-config " + dir + "/ft.yaml");
  REQUIRE(typo.exit_code == 1);
  REQUIRE_THAT(typo.output, Catch::Contains("data.text_colum: unknown key") &&
                                Catch::Contains("did you mean 'data.text_column'"));
  write_file_atomic(dir + "/ft.yaml", "run: {output_dir: " + dir + "/run}\nmodel: {preset: tiny}\n"
                                      "data: {train: " + dir + "/train.tsv}\ntraining: {max_epochs: 1}\n");
  auto missing = test::run_bertforge("validate-config " + dir + "/ft.yaml");
  REQUIRE(missing.exit_code == 1);
  REQUIRE_THAT(missing.output, Catch::Contains(dir + "/train.tsv"));
}

TEST_CASE("the shipped pretraining and fine-tuning configs validate", "[cli]") {
  // Left out: those that name a run a script makes first (quickstart's
  // tokenizer and encoder, finetune_sst2/mrpc's init_from) and the data and
  // tokenizer configs (other commands read them).
  for (const char* config :
       {"mini", "small", "base", "zh_mini", "small_budget", "finetune_wnut17", "finetune_cmrc2018"}) {
    auto r = test::run_bertforge(std::string("validate-config configs/") + config + ".yaml");
    INFO(config << ": " << r.output);
    CHECK(r.exit_code == 0);
  }
}
