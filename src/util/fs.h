#pragma once
// File helpers with the durability rules every writer in bertforge follows:
// write to a temporary name, fsync, rename over the target, fsync the folder.
// A crash at any point leaves either the old file or the new one, never half.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bf {

std::string read_file(const std::string& path);

// Called with the path each time read_file, MappedFile or hash_file_hex opens
// a file (nothing when unset). For tests that count how often a run reads its
// files (a resumed run opens each checkpoint file once); not for real runs.
using FileOpenObserver = void (*)(const std::string& path);
void set_file_open_observer(FileOpenObserver observer);
void notify_file_open(const std::string& path);

// Testing hooks for the fault-injection tests (docs/reliability.md), read once
// from the environment; never set them in real runs:
//   BERTFORGE_FAULT_WRITE_LIMIT_BYTES=N  write_file_atomic fails with ENOSPC
//       ("No space left on device") once this process has written N bytes
//       through it: a disk filling up.
//   BERTFORGE_FAULT_WRITE_FAILURES=K     with the limit: only the first K writes
//       fail, then space is back (a transient disk-full).
//   BERTFORGE_FAULT_WRITE_DELAY_MS=M     every write_file_atomic pauses M ms with
//       its temporary file half written, so a SIGKILL can land mid-write.
void write_file_atomic(const std::string& path, std::string_view data);
void fsync_path(const std::string& path);  // file or directory
// Removes the temporary files (".NAME.tmp.PID") that write_file_atomic calls of
// processes no longer running left in `dir` when they were killed. Returns how
// many; errors are ignored (a leftover is only litter, never read).
int remove_stale_temp_files(const std::string& dir);
bool path_exists(const std::string& path);

// Read-only memory map of a whole file. Empty files map to a null pointer.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bf
