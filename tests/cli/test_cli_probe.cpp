#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../support/cli_runner.h"
#include "../support/shared_data.h"
#include "util/fs.h"

using namespace bf;

namespace {

// The first `rows` rows of an SST-2 split (header kept).
std::string sst2_rows(const std::string& split, const std::string& out, int rows) {
  std::ifstream in(test::shared_path("data/sst2/" + split + ".tsv"));
  std::ofstream o(out);
  std::string line;
  for (int i = 0; i <= rows && std::getline(in, line); ++i) o << line << "\n";
  return out;
}

}  // namespace

TEST_CASE("bertforge probe scores a model directory against random weights, and names a bad row", "[cli][probe]") {
  const auto dir = test::temp_dir("cli-probe");
  const auto vocab = dir + "/vocab";
  std::filesystem::create_directories(vocab);
  std::filesystem::copy_file(test::shared_path("data/bert_vocab/bert-base-uncased-vocab.txt"), vocab + "/vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  auto init = test::run_bertforge("model init --preset tiny --out " + dir + "/model --tokenizer " + vocab);
  INFO(init.output);
  REQUIRE(init.exit_code == 0);
  const auto train = sst2_rows("train", dir + "/train.tsv", 40);
  const auto dev = sst2_rows("dev", dir + "/dev.tsv", 20);

  const std::string common = "probe --model " + dir + "/model --train " + train + " --text-column sentence --threads 1";
  auto r = test::run_bertforge(common + " --dev " + dev + " --labels-per-class 5 --with-random-init --output " + dir +
                               "/probe.json");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  REQUIRE_THAT(r.output, Catch::Contains("random init") && Catch::Contains("points of accuracy"));
  const auto report = nlohmann::json::parse(bf::read_file(dir + "/probe.json"));
  REQUIRE(report["train_examples"] == 10);
  REQUIRE(report["dev_examples"] == 20);
  REQUIRE(report["random_init"]["dev_examples"] == 20);
  for (const auto* key : {"accuracy", "macro_f1"}) {
    REQUIRE(report[key].get<double>() >= 0.0);
    REQUIRE(report[key].get<double>() <= 1.0);
  }

  std::ofstream(dir + "/bad.tsv") << "sentence\tlabel\na fine film\t1\na label never trained on\tpositive\n";
  auto bad = test::run_bertforge(common + " --dev " + dir + "/bad.tsv");
  INFO(bad.output);
  REQUIRE(bad.exit_code != 0);
  REQUIRE_THAT(bad.output, Catch::Contains("bad.tsv:3"));
  REQUIRE(test::run_bertforge(common).exit_code != 0);  // --dev is required

  // The section's range checks apply to flags too, named as flags.
  auto range = test::run_bertforge(common + " --dev " + dev + " --max-seq-length 4 --labels-per-class -1");
  INFO(range.output);
  REQUIRE(range.exit_code != 0);
  REQUIRE_THAT(range.output, Catch::Contains("--max-seq-length") && Catch::Contains("--labels-per-class"));
}
