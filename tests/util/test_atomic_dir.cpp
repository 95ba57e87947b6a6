// Directories written whole or not at all (checkpoints, model/, best_model/).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "../support/shared_data.h"
#include "util/atomic_dir.h"
#include "util/fs.h"

using namespace bf;
namespace fs = std::filesystem;

TEST_CASE("write_dir_atomic replaces a directory whole, and a failure leaves the old one", "[util][atomic]") {
  const auto root = test::temp_dir("atomic-dir");
  const auto dir = root + "/model";
  write_dir_atomic(dir, [](const std::string& tmp) { write_file_atomic(tmp + "/a.txt", "one"); });
  REQUIRE(read_file(dir + "/a.txt") == "one");

  write_dir_atomic(dir, [](const std::string& tmp) { write_file_atomic(tmp + "/b.txt", "two"); });
  CHECK(read_file(dir + "/b.txt") == "two");
  CHECK_FALSE(fs::exists(dir + "/a.txt"));  // the new directory, not a merge

  REQUIRE_THROWS_AS(write_dir_atomic(dir,
                                     [](const std::string& tmp) {
                                       write_file_atomic(tmp + "/c.txt", "half");
                                       throw std::runtime_error("disk full");
                                     }),
                    std::runtime_error);
  CHECK(read_file(dir + "/b.txt") == "two");
  CHECK_FALSE(fs::exists(temp_dir_for(dir)));
  for (const auto& e : fs::directory_iterator(root)) CHECK(e.path().filename() == "model");

  // A leftover of a killed write is cleared, never taken for the directory.
  fs::create_directories(temp_dir_for(dir));
  std::ofstream(temp_dir_for(dir) + "/partial") << "x";
  write_dir_atomic(dir, [](const std::string& tmp) { write_file_atomic(tmp + "/d.txt", "four"); });
  CHECK(read_file(dir + "/d.txt") == "four");
  CHECK_FALSE(fs::exists(temp_dir_for(dir)));
}
