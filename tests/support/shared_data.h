#pragma once
// Tests read real data from ../shared (beside the repo). A missing ../shared
// is a failure with a clear message, never a silent skip.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace bf::test {

inline std::string shared_path(const std::string& relative) {
  namespace fs = std::filesystem;
  const char* env = std::getenv("BERTFORGE_SHARED");
  const fs::path root = env != nullptr ? fs::path(env) : fs::path(BERTFORGE_SOURCE_DIR) / ".." / "shared";
  const fs::path path = root / relative;
  INFO("tests need the shared data folder at " << root.string() << " (set BERTFORGE_SHARED to move it)");
  REQUIRE(fs::exists(path));
  return path.string();
}

// A fresh, empty directory under the build tree, removed first if present.
inline std::string temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bertforge-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace bf::test
