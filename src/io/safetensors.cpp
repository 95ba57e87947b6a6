#include "io/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace bf::io {
namespace {

struct DTypeInfo {
  const char* name;
  torch::ScalarType type;
  std::uint64_t size;
};

const DTypeInfo kDTypes[] = {
    {"F64", torch::kFloat64, 8}, {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8}, {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},    {"I8", torch::kInt8, 1},      {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DTypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::string safetensors_dtype_name(torch::ScalarType type) {
  for (const auto& d : kDTypes)
    if (d.type == type) return d.name;
  bf::fail(std::string("safetensors cannot store dtype ") + c10::toString(type));
}

SafetensorsReader::SafetensorsReader(const std::string& path)
    : SafetensorsReader(std::make_shared<const bf::MappedFile>(path)) {}

SafetensorsReader::SafetensorsReader(std::shared_ptr<const bf::MappedFile> file) : file_(std::move(file)) {
  parse_header();
}

void SafetensorsReader::parse_header() {
  const std::string& path = file_->path();
  auto bad = [&](const std::string& why) { bf::fail(path + ": not a valid safetensors file: " + why); };
  if (file_->size() < 8) bad("file is " + std::to_string(file_->size()) + " bytes, shorter than the 8-byte header length");
  const std::uint64_t header_len = read_u64_le(file_->data());
  if (header_len >= kMaxSafetensorsHeader) bad("header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  if (header_len > file_->size() - 8)
    bad("header length " + std::to_string(header_len) + " runs past the end of the file (" +
        std::to_string(file_->size()) + " bytes)");
  data_start_ = 8 + header_len;
  const std::uint64_t data_size = file_->size() - data_start_;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file_->data() + 8, file_->data() + data_start_);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number that overflows
    bad(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) bad("header is not a JSON object");

  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) bad("__metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) bad("__metadata__ value for '" + k + "' is not a string");
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets") ||
        value.size() != 3)
      bad(where + " must have exactly dtype, shape and data_offsets");
    if (!value["dtype"].is_string()) bad(where + ": dtype is not a string");
    SafetensorsEntry e;
    e.name = name;
    e.dtype = value["dtype"].get<std::string>();
    const DTypeInfo* info = find_dtype(e.dtype);
    if (info == nullptr) bad(where + ": unknown dtype '" + e.dtype + "'");
    const auto& shape = value["shape"];
    if (!shape.is_array()) bad(where + ": shape is not a list");
    // Elements are counted with an overflow check: a shape can't claim more
    // bytes than the data region holds.
    std::uint64_t elements = 1;
    for (const auto& dim : shape) {
      if (!dim.is_number_unsigned()) bad(where + ": shape has a non-integer or negative dimension");
      const std::uint64_t d = dim.get<std::uint64_t>();
      if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) bad(where + ": dimension too large");
      if (d != 0 && elements > data_size / d) bad(where + ": shape " + shape.dump() + " is larger than the file");
      elements *= d;
      e.shape.push_back(static_cast<std::int64_t>(d));
    }
    const auto& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      bad(where + ": data_offsets must be two non-negative integers");
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    if (e.begin > e.end) bad(where + ": data_offsets begin > end");
    if (e.end > data_size)
      bad(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
          "] run past the data region (" + std::to_string(data_size) + " bytes)");
    if (e.end - e.begin != elements * info->size)
      bad(where + ": data_offsets span " + std::to_string(e.end - e.begin) + " bytes but shape " + shape.dump() +
          " of " + e.dtype + " needs " + std::to_string(elements * info->size));
    index_[e.name] = entries_.size();
    entries_.push_back(std::move(e));
  }

  // The data region must be covered exactly once: no overlaps, no holes.
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& e : entries_) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t cursor = 0;
  for (const auto* e : by_offset) {
    if (e->begin < cursor) bad("tensor '" + e->name + "' overlaps the previous tensor");
    if (e->begin > cursor) bad("the data region has a gap before tensor '" + e->name + "'");
    cursor = e->end;
  }
  if (cursor != data_size)
    bad("the data region has " + std::to_string(data_size - cursor) + " trailing bytes that no tensor covers");
}

bool SafetensorsReader::contains(const std::string& name) const { return index_.count(name) != 0; }

const SafetensorsEntry& SafetensorsReader::entry(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) bf::fail(file_->path() + ": no tensor named '" + name + "'");
  return entries_[it->second];
}

torch::Tensor SafetensorsReader::load(const std::string& name) const {
  const auto& e = entry(name);
  auto tensor = torch::empty(e.shape, torch::TensorOptions().dtype(find_dtype(e.dtype)->type));
  // memcpy, not from_blob: the mapped bytes need not be aligned for the dtype.
  if (e.end > e.begin) std::memcpy(tensor.data_ptr(), file_->data() + data_start_ + e.begin, e.end - e.begin);
  return tensor;
}

std::vector<std::pair<std::string, torch::Tensor>> SafetensorsReader::load_all() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& e : entries_) out.emplace_back(e.name, load(e.name));
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      std::map<std::string, std::string> metadata) {
  metadata.emplace("format", "pt");
  nlohmann::ordered_json header;
  header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") bf::fail(path + ": '__metadata__' cannot be a tensor name");
    if (header.contains(name)) bf::fail(path + ": duplicate tensor name '" + name + "'");
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", safetensors_dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(t));
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data region starts 8-byte aligned, as the reference writer does.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string blob;
  blob.reserve(8 + header_text.size() + offset);
  std::uint64_t n = header_text.size();
  for (int i = 0; i < 8; ++i) blob.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  blob += header_text;
  for (const auto& t : contiguous)
    blob.append(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel()) * t.element_size());
  bf::write_file_atomic(path, blob);
}

}  // namespace bf::io
