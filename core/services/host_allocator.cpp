#include "core/services/host_allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "core/services/error.h"

namespace tg {

namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kSmallLimit = 4096;        // up to here: multiples of 64 bytes
constexpr size_t kMapThreshold = 1 << 20;   // from here: mmap / munmap
constexpr int kClassesPerDoubling = 8;      // above kSmallLimit: waste ≤ 1/8

constexpr size_t kHugePage = 2 << 20;

// What the cache may hold past the peak in-use bytes: 1/32 of it. With 1/8, a
// Bahdanau training step's peak RSS was 657 MB for 502 MB in use at most; with
// 1/32, 614 MB, for 20-40% more page faults (0.05-0.44 s of system time in
// 30 steps: docs/performance.md).
constexpr size_t kSlack = 32;

// The largest size class not above `bytes` (more than 4 KiB).
size_t host_floor_class(size_t bytes) {
  const size_t step = std::bit_floor(bytes) / kClassesPerDoubling;
  return bytes / step * step;
}

// Mapped blocks of 2 MiB and more start on a 2 MiB boundary and are advised
// as huge pages: the first touch of fresh memory then faults once per 2 MiB
// instead of once per 4 KiB (those faults were half of a Cho training step
// with 4 KiB pages). The length is not rounded up, so no memory is wasted:
// the last part under 2 MiB stays in 4 KiB pages.
void* map_block(size_t size) {
  if (size < kHugePage) {
    void* ptr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return ptr == MAP_FAILED ? nullptr : ptr;
  }
  // Map 2 MiB more than asked, then unmap the head before the first boundary and the tail after the block.
  void* mapped = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(mapped), end = start + size + kHugePage;
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  const uintptr_t block_end = (aligned + size + 4095) / 4096 * 4096;
  if (aligned > start) munmap(mapped, aligned - start);
  if (end > block_end) munmap(reinterpret_cast<void*>(block_end), end - block_end);
  void* ptr = reinterpret_cast<void*>(aligned);
  madvise(ptr, size, MADV_HUGEPAGE);  // advice only: without it the block still works
  return ptr;
}

// Moves the pages of [src, src + bytes) to [dst, ...) (both 2 MiB aligned,
// bytes whole huge pages), one huge page per call where the whole range is not
// one mapping. Returns the bytes moved.
size_t move_pages(char* src, char* dst, size_t bytes) {
  constexpr int flags = MREMAP_MAYMOVE | MREMAP_FIXED;
  if (bytes == 0 || mremap(src, bytes, bytes, flags, dst) != MAP_FAILED) return bytes;
  size_t done = 0;
  for (; done < bytes; done += kHugePage)
    if (mremap(src + done, kHugePage, kHugePage, flags, dst + done) == MAP_FAILED) break;
  return done;
}

void* system_allocate(size_t size) {
  if (size >= kMapThreshold) return map_block(size);
  return std::aligned_alloc(kAlignment, size);
}

void system_free(void* ptr, size_t size) {
  if (size >= kMapThreshold)
    munmap(ptr, size);
  else
    std::free(ptr);
}

struct CachedBlock {
  uint64_t freed_at;  // sequence number of the free: smaller is older
  void* ptr;
};

struct HostCache {
  std::mutex mutex;
  std::map<size_t, std::deque<CachedBlock>> free_blocks;  // size class -> blocks, oldest first
  std::map<uint64_t, size_t> by_age;  // freed_at -> size class, for giving back the oldest first
  std::unordered_map<void*, size_t> larger_blocks;  // handed out for a smaller class: block -> its class
  uint64_t frees = 0;
  HostMemoryStats stats;

  // Takes the newest cached block of `size`, or nullptr.
  void* take(size_t size) {
    auto it = free_blocks.find(size);
    return it == free_blocks.end() ? nullptr : take_from(it);
  }

  // A mapped request that misses its class takes the smallest cached block
  // of at most four times its size: batch shapes change every step, and a fresh
  // block costs a page fault (and the kernel's zeroing) per page on first
  // touch, about a tenth of a Cho training step before this.
  void* take_larger(size_t size, size_t& block_size) {
    for (auto it = free_blocks.upper_bound(size); it != free_blocks.end() && it->first <= 4 * size; ++it) {
      if (it->second.empty()) continue;
      block_size = it->first;
      void* ptr = take_from(it);
      larger_blocks.emplace(ptr, block_size);
      return ptr;
    }
    return nullptr;
  }

  void* take_from(std::map<size_t, std::deque<CachedBlock>>::iterator it) {
    if (it->second.empty()) return nullptr;
    const CachedBlock block = it->second.back();
    it->second.pop_back();
    by_age.erase(block.freed_at);
    stats.cached_bytes -= it->first;
    return block.ptr;
  }

  // The class of the block at `ptr`, handed out for requests of class `size`.
  size_t block_class(void* ptr, size_t size) {
    if (size < kMapThreshold) return size;
    const auto it = larger_blocks.find(ptr);
    if (it == larger_blocks.end()) return size;
    const size_t block_size = it->second;
    larger_blocks.erase(it);
    return block_size;
  }

  void put(void* ptr, size_t size) {
    const uint64_t seq = ++frees;
    free_blocks[size].push_back({seq, ptr});
    by_age.emplace(seq, size);
    stats.cached_bytes += size;
  }

  // Takes the least recently freed block of class `size` out of its list (the caller keeps by_age).
  void* take_oldest(size_t size) {
    std::deque<CachedBlock>& blocks = free_blocks[size];
    void* ptr = blocks.front().ptr;
    blocks.pop_front();
    stats.cached_bytes -= size;
    return ptr;
  }

  // Fills the fresh mapped block [dst, dst + size) (2 MiB aligned) with the
  // pages of the least recently freed cached blocks of 2 MiB and more, whole
  // huge pages at a time (mremap moves them: no fault, no zeroing, huge pages
  // kept). A block whose pages are partly taken stays cached, shrunk to the
  // largest class that fits.
  void recycle_into(char* dst, size_t size) {
    const size_t wanted = size / kHugePage * kHugePage;
    size_t moved = 0;
    for (auto it = by_age.begin(); it != by_age.end() && moved < wanted;) {
      const size_t block_size = it->second;
      if (block_size < kHugePage) {
        ++it;
        continue;
      }
      char* const src = static_cast<char*>(take_oldest(block_size));
      const size_t taken = std::min(wanted - moved, block_size / kHugePage * kHugePage);
      const size_t done = move_pages(src, dst + moved, taken);
      moved += done;
      stats.recycled_bytes += done;
      const size_t rest = block_size - done;
      const size_t rest_class = rest >= kHugePage ? host_floor_class(rest) : 0;
      if (rest > rest_class) munmap(src + done + rest_class, rest - rest_class);  // part of a mapped block: never std::free
      if (rest_class == 0) {
        it = by_age.erase(it);
        continue;
      }
      // Still cached, at its age: older than every cached block of 2 MiB and more left.
      it->second = rest_class;
      free_blocks[rest_class].push_front({it->first, src + done});
      stats.cached_bytes += rest_class;
      ++it;
      if (done < taken) break;  // the system refused: the rest stays fresh
    }
  }

  // Gives back the least recently freed blocks until in-use plus cached
  // bytes fit in `limit` (or the cache is empty).
  void trim_to(size_t limit) {
    while (!by_age.empty() && stats.in_use_bytes + stats.cached_bytes > limit) {
      const size_t size = by_age.begin()->second;
      by_age.erase(by_age.begin());
      system_free(take_oldest(size), size);
      stats.trimmed_bytes += size;
    }
  }
};

HostCache& host_cache() {
  static auto* cache = new HostCache;  // never destroyed: tensors may outlive statics
  return *cache;
}

}  // namespace

size_t host_size_class(size_t nbytes) {
  if (nbytes <= kSmallLimit) return nbytes == 0 ? kAlignment : (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  // Eight classes between 2^k and 2^(k+1): round up to a multiple of 2^k / 8.
  const size_t step = std::bit_floor(nbytes) / kClassesPerDoubling;
  return (nbytes + step - 1) / step * step;
}

void* host_allocate(size_t nbytes) {
  // No machine has 2^62 bytes; refusing here also keeps the size class from wrapping.
  if (nbytes > (size_t{1} << 62))
    fail("out of host memory: could not allocate {} bytes (more than any machine has)", nbytes);
  const size_t size = host_size_class(nbytes);
  HostCache& cache = host_cache();
  std::lock_guard lock(cache.mutex);
  if (void* ptr = cache.take(size)) {
    cache.stats.in_use_bytes += size;
    return ptr;
  }
  size_t block_size = 0;
  if (size >= kMapThreshold)
    if (void* ptr = cache.take_larger(size, block_size)) {
      cache.stats.in_use_bytes += block_size;
      if (cache.stats.in_use_bytes > cache.stats.peak_in_use_bytes) cache.stats.peak_in_use_bytes = cache.stats.in_use_bytes;
      return ptr;
    }
  cache.stats.in_use_bytes += size;
  // A miss: take what pages the cache can give (recycle_into), and keep what
  // the process holds within the peak demand (+1/kSlack, so that a step's
  // growth does not flush every block it will reuse).
  if (cache.stats.in_use_bytes > cache.stats.peak_in_use_bytes) cache.stats.peak_in_use_bytes = cache.stats.in_use_bytes;
  const size_t peak = cache.stats.peak_in_use_bytes;
  void* ptr = system_allocate(size);
  if (ptr != nullptr && size >= kHugePage) cache.recycle_into(static_cast<char*>(ptr), size);
  cache.trim_to(peak + peak / kSlack);
  if (ptr == nullptr) {
    cache.trim_to(0);
    ptr = system_allocate(size);
  }
  if (ptr == nullptr) {
    cache.stats.in_use_bytes -= size;
    fail("out of host memory: could not allocate {} bytes ({} in use by tensors)", nbytes, cache.stats.in_use_bytes);
  }
  ++cache.stats.system_allocations;
  return ptr;
}

void host_deallocate(void* ptr, size_t nbytes) {
  HostCache& cache = host_cache();
  std::lock_guard lock(cache.mutex);
  const size_t size = cache.block_class(ptr, host_size_class(nbytes));
  cache.stats.in_use_bytes -= size;
  cache.put(ptr, size);
}

HostMemoryStats host_memory_stats() {
  std::lock_guard lock(host_cache().mutex);
  return host_cache().stats;
}

void host_release_cached() {
  HostCache& cache = host_cache();
  std::lock_guard lock(cache.mutex);
  const size_t trimmed = cache.stats.trimmed_bytes;
  cache.trim_to(0);
  cache.stats.trimmed_bytes = trimmed;  // released on request, not trimmed
}

}  // namespace tg
