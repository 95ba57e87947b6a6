#include "util/atomic_dir.h"

#include <fcntl.h>
#include <stdio.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "util/error.h"
#include "util/fs.h"

namespace bf {
namespace fs = std::filesystem;

std::string temp_dir_for(const std::string& dir) {
  const fs::path p = fs::path(dir).lexically_normal();
  const fs::path name = p.has_filename() ? p.filename() : p.parent_path().filename();
  const fs::path parent = p.has_filename() ? p.parent_path() : p.parent_path().parent_path();
  return (parent / (".tmp-" + name.string())).string();
}

namespace {

void sync_tree(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) fsync_path(entry.path().string());
  fsync_path(dir.string());
}

// Puts `tmp` where `dir` is. An existing `dir` is swapped out in one step
// (renameat2 RENAME_EXCHANGE) and removed afterwards, so no moment lacks it;
// filesystems without the exchange fall back to remove + rename.
void put_in_place(const fs::path& tmp, const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::rename(tmp, dir);
    return;
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(tmp, ec);  // now the old directory
    return;
  }
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

}  // namespace

void write_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp_dir)>& fill) {
  const fs::path target = fs::path(dir).lexically_normal();
  const fs::path tmp = temp_dir_for(dir);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    fs::create_directories(tmp);
    fill(tmp.string());
    sync_tree(tmp);
    put_in_place(tmp, target);
    fsync_path(target.parent_path().empty() ? "." : target.parent_path().string());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace bf
