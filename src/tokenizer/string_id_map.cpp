#include "tokenizer/string_id_map.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bf::tok {
namespace {

std::uint64_t hash_key(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace

void StringIdMap::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.id < 0) continue;
    std::size_t i = slot.hash & mask;
    while (slots_[i].id >= 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void StringIdMap::insert_or_assign(std::string_view key, std::int32_t id) {
  // Kept at most half full, so probe sequences stay short.
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const std::uint64_t hash = hash_key(key);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  for (; slots_[i].id >= 0; i = (i + 1) & mask) {
    if (slots_[i].hash == hash && key_of(slots_[i]) == key) {
      slots_[i].id = id;
      return;
    }
  }
  Slot& slot = slots_[i];
  slot.hash = hash;
  slot.offset = static_cast<std::uint32_t>(arena_.size());
  slot.length = static_cast<std::uint32_t>(key.size());
  slot.id = id;
  arena_.append(key);
  ++count_;
}

std::int32_t StringIdMap::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  const std::uint64_t hash = hash_key(key);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask; slots_[i].id >= 0; i = (i + 1) & mask) {
    if (slots_[i].hash == hash && key_of(slots_[i]) == key) return slots_[i].id;
  }
  return -1;
}

}  // namespace bf::tok
