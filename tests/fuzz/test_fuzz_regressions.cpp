// Replays every seed (tests/fuzz/corpus/<target>/) and every input that once
// crashed a fuzz target (tests/fuzz/regressions/<target>/) through the same
// entry functions the libFuzzer targets run (targets/fuzz_entries.h). Each
// must parse or be refused with a bf::Error; a crash, a sanitizer report or
// any other exception fails the test. scripts/fuzz.sh does the fuzzing itself.
#include <torch/torch.h>  // before Catch: its CHECK must replace glog's
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "targets/fuzz_entries.h"

namespace {

namespace fs = std::filesystem;
using Entry = int (*)(const std::uint8_t*, std::size_t);

std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(BERTFORGE_SOURCE_DIR) / "tests" / "fuzz" / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& item : fs::directory_iterator(dir))
      if (item.is_regular_file() && item.path().filename().string().front() != '.') files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const std::string& target, Entry entry) {
  const auto files = inputs_of(target);
  INFO("tests/fuzz/corpus/" << target << " holds the seeds of fuzz_" << target);
  REQUIRE(!files.empty());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    REQUIRE(in.good());
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO("input " << file.string() << " (" << bytes.size() << " bytes)");
    CHECK_NOTHROW(entry(bytes.data(), bytes.size()));
  }
}

}  // namespace

TEST_CASE("fuzz regressions: safetensors", "[fuzz]") { replay("safetensors", bf::fuzz::fuzz_safetensors); }
TEST_CASE("fuzz regressions: config", "[fuzz]") { replay("config", bf::fuzz::fuzz_config); }
TEST_CASE("fuzz regressions: rows (TSV, CSV, JSONL, text)", "[fuzz]") { replay("rows", bf::fuzz::fuzz_rows); }
TEST_CASE("fuzz regressions: wordpiece", "[fuzz]") { replay("wordpiece", bf::fuzz::fuzz_wordpiece); }
TEST_CASE("fuzz regressions: sentencepiece", "[fuzz]") { replay("sentencepiece", bf::fuzz::fuzz_sentencepiece); }
TEST_CASE("fuzz regressions: shard", "[fuzz]") { replay("shard", bf::fuzz::fuzz_shard); }
