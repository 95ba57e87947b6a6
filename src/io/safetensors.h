#pragma once
// The safetensors format: an 8-byte little-endian header length N, N bytes of
// JSON ({name: {dtype, shape, data_offsets}, "__metadata__": {...}}), then the
// tensor bytes. The reader memory-maps the file and validates the header
// completely before any tensor is touched; nothing in a hostile file can make
// it read out of bounds or allocate more than the file's size implies.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/fs.h"

namespace bf::io {

// Headers beyond this are refused, as the reference implementation does.
constexpr std::uint64_t kMaxSafetensorsHeader = 100'000'000;

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "BF16", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // offsets into the data region
  std::uint64_t end = 0;
};

class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::string& path);
  // Over a file already mapped (a checkpoint's, opened once and checksummed).
  explicit SafetensorsReader(std::shared_ptr<const bf::MappedFile> file);

  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const;
  const SafetensorsEntry& entry(const std::string& name) const;
  // A new CPU tensor holding a copy of the stored data, in its stored dtype.
  torch::Tensor load(const std::string& name) const;
  std::vector<std::pair<std::string, torch::Tensor>> load_all() const;
  const std::string& path() const { return file_->path(); }

 private:
  void parse_header();

  std::shared_ptr<const bf::MappedFile> file_;
  std::uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes the tensors (any device, made contiguous on CPU) atomically: a
// temporary file, fsync, rename. Metadata always carries format=pt, which
// transformers requires.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      std::map<std::string, std::string> metadata = {});

std::string safetensors_dtype_name(torch::ScalarType type);

}  // namespace bf::io
