#include "util/large_block_cache.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

#if defined(__SANITIZE_ADDRESS__)
#define BF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BF_ASAN 1
#endif
#endif

namespace bf {
namespace {

constexpr std::size_t kLargeBytes = std::size_t{16} << 20;
constexpr std::size_t kGranule = std::size_t{2} << 20;
constexpr std::size_t kAlignment = 64;  // as c10's alloc_cpu

class LargeBlockCache final : public c10::Allocator {
 public:
  LargeBlockCache(c10::Allocator* fallback, std::size_t max_idle) : fallback_(fallback), max_idle_(max_idle) {}

  c10::DataPtr allocate(std::size_t bytes) const override {
    void* data = bytes < kLargeBytes ? fallback_->raw_allocate(bytes) : take_large(bytes);
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  std::size_t idle_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return idle_bytes_;
  }

  static LargeBlockCache* instance;

 private:
  static void release(void* data) { instance->give_back(data); }

  void* take_large(std::size_t bytes) const {
    const std::size_t size = (bytes + kGranule - 1) / kGranule * kGranule;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // The smallest idle block that fits, unless it wastes over a quarter.
      auto it = idle_.lower_bound(size);
      if (it != idle_.end() && it->first <= size + size / 4) {
        void* data = it->second;
        live_[data] = it->first;
        idle_bytes_ -= it->first;
        idle_.erase(it);
        return data;
      }
    }
    void* data = nullptr;
    if (posix_memalign(&data, kAlignment, size) != 0) {
      drop_idle();  // the idle blocks may be what stands in the way
      if (posix_memalign(&data, kAlignment, size) != 0) data = nullptr;
    }
    TORCH_CHECK(data != nullptr, "DefaultCPUAllocator: not enough memory: you tried to allocate ", bytes, " bytes.");
    std::lock_guard<std::mutex> lock(mutex_);
    live_[data] = size;
    return data;
  }

  void give_back(void* data) const {
    if (data == nullptr) return;
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = live_.find(data);
    if (it == live_.end()) {
      lock.unlock();
      fallback_->raw_deallocate(data);
      return;
    }
    const std::size_t size = it->second;
    live_.erase(it);
    if (idle_bytes_ + size > max_idle_) {
      lock.unlock();
      std::free(data);
      return;
    }
    idle_.emplace(size, data);
    idle_bytes_ += size;
  }

  void drop_idle() const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, data] : idle_) std::free(data);
    idle_.clear();
    idle_bytes_ = 0;
  }

  c10::Allocator* fallback_;
  std::size_t max_idle_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, std::size_t> live_;  // large blocks handed out
  mutable std::multimap<std::size_t, void*> idle_;       // large blocks kept for reuse
  mutable std::size_t idle_bytes_ = 0;
};

LargeBlockCache* LargeBlockCache::instance = nullptr;

}  // namespace

void install_large_block_cache(std::size_t max_cached_bytes) {
#if !defined(BF_ASAN)
  static std::once_flag once;
  std::call_once(once, [&] {
    // Never destroyed: tensors may be freed during static destruction.
    LargeBlockCache::instance = new LargeBlockCache(c10::GetCPUAllocator(), max_cached_bytes);
    c10::SetCPUAllocator(LargeBlockCache::instance, /*priority=*/1);
  });
#else
  (void)max_cached_bytes;
#endif
}

bool large_block_cache_installed() { return LargeBlockCache::instance != nullptr; }

std::size_t large_block_cache_idle_bytes() {
  return LargeBlockCache::instance ? LargeBlockCache::instance->idle_bytes() : 0;
}

}  // namespace bf
