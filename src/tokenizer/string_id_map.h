#pragma once
// An open-addressing hash map from strings to ids, looked up by string_view.
// WordPiece does several lookups per word on the hot path; a flat table with
// the keys in one arena keeps them to one cache miss and no allocation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bf::tok {

class StringIdMap {
 public:
  // Later values for the same key replace earlier ones (as a Python dict would).
  void insert_or_assign(std::string_view key, std::int32_t id);
  std::int32_t find(std::string_view key) const;  // -1 when absent
  std::size_t size() const { return count_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::int32_t id = -1;  // -1 marks an empty slot
  };
  std::string_view key_of(const Slot& slot) const {
    return std::string_view(arena_.data() + slot.offset, slot.length);
  }
  void grow();

  std::string arena_;
  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace bf::tok
