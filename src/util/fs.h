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
void write_file_atomic(const std::string& path, std::string_view data);
void fsync_path(const std::string& path);  // file or directory
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
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bf
