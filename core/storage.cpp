#include "core/storage.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/profiler.h"

namespace tg {

namespace {

constexpr size_t kAlignment = 64;
// Cached free blocks beyond this many bytes go back to the system.
constexpr size_t kMaxCachedBytes = size_t{2} << 30;

size_t round_up(size_t nbytes) { return (nbytes + kAlignment - 1) / kAlignment * kAlignment; }

struct HostCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // rounded size -> blocks
  HostMemoryStats stats;
};

HostCache& host_cache() {
  static auto* cache = new HostCache;  // never destroyed: tensors may outlive statics
  return *cache;
}

}  // namespace

void* host_allocate(size_t nbytes) {
  const size_t size = round_up(nbytes == 0 ? 1 : nbytes);
  HostCache& cache = host_cache();
  {
    std::lock_guard lock(cache.mutex);
    cache.stats.in_use_bytes += size;
    if (cache.stats.in_use_bytes > cache.stats.peak_in_use_bytes)
      cache.stats.peak_in_use_bytes = cache.stats.in_use_bytes;
    auto it = cache.free_blocks.find(size);
    if (it != cache.free_blocks.end() && !it->second.empty()) {
      void* ptr = it->second.back();
      it->second.pop_back();
      cache.stats.cached_bytes -= size;
      return ptr;
    }
  }
  void* ptr = std::aligned_alloc(kAlignment, size);
  if (ptr == nullptr) {
    host_release_cached();
    ptr = std::aligned_alloc(kAlignment, size);
  }
  if (ptr == nullptr) {
    std::lock_guard lock(host_cache().mutex);
    host_cache().stats.in_use_bytes -= size;
    fail("out of host memory: could not allocate {} bytes", nbytes);
  }
  return ptr;
}

void host_deallocate(void* ptr, size_t nbytes) {
  const size_t size = round_up(nbytes == 0 ? 1 : nbytes);
  HostCache& cache = host_cache();
  std::lock_guard lock(cache.mutex);
  cache.stats.in_use_bytes -= size;
  if (cache.stats.cached_bytes + size > kMaxCachedBytes) {
    std::free(ptr);
    return;
  }
  cache.free_blocks[size].push_back(ptr);
  cache.stats.cached_bytes += size;
}

HostMemoryStats host_memory_stats() {
  std::lock_guard lock(host_cache().mutex);
  return host_cache().stats;
}

void host_release_cached() {
  HostCache& cache = host_cache();
  std::lock_guard lock(cache.mutex);
  for (auto& [size, blocks] : cache.free_blocks)
    for (void* ptr : blocks) std::free(ptr);
  cache.free_blocks.clear();
  cache.stats.cached_bytes = 0;
}

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  profile_allocation(nbytes);
  data_ = device.is_host() ? host_allocate(nbytes) : device_backend(device).allocate(nbytes);
}

Storage::~Storage() {
  if (device_.is_host())
    host_deallocate(data_, nbytes_);
  else
    device_backend(device_).deallocate(data_, nbytes_);
}

}  // namespace tg
