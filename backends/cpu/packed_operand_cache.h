#pragma once
// Packed operands kept between products: a weight converted and laid out in
// a kernel's panels once, then read by every product that uses it until the
// weight is written again (a recurrent step's h·W_hhᵀ uses the same W_hh T
// times a sequence; a decoder step the output layer's every step).
//
// An entry is keyed by the operand's storage id and version (View's
// storage_id, storage_version: set only for a parameter's memory) and by its
// place and layout (data pointer, strides, sizes, format). Any in-place write
// to the parameter bumps its version, so a stale entry is never found; the
// entry of the same memory and layout at an older version is replaced (its
// buffer reused). The least recently used entries go past kCapacityBytes;
// a freed parameter's entries stay until then (clear() drops them all), so
// training holds one entry per parameter and layout, however many steps.
//
// One packing per key, whatever the threads: the first thread to miss puts
// an entry in, marked as being packed, and packs outside the lock; a thread
// asking for the same key meanwhile waits for that packing instead of making
// its own (a batch whose matrices share one B asks from every thread at once).
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace tg::cpu {

struct PackedKey {
  uint64_t storage_id = 0, version = 0;
  const void* data = nullptr;
  int64_t row_stride = 0, col_stride = 0, rows = 0, cols = 0;
  int format = 0;  // which kernel's packing (kRoundedCopy + a MatmulPrecision: a rounded float32 copy)
  int64_t matrices = 1, matrix_stride = 0;  // a batch of B: how many, how far apart
};
constexpr int kRoundedCopy = 16;

// Packings start on a cache line, so that whole panel rows can be written past the caches (streaming stores
// need 64-byte addresses).
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U> CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t{64}); }
  template <class U> bool operator==(const CacheLineAllocator<U>&) const { return true; }
};

class PackedOperandCache {
 public:
  using Words = std::vector<uint32_t, CacheLineAllocator<uint32_t>>;
  static constexpr size_t kCapacityBytes = size_t{512} << 20;

  // The packed operand for `key` (key.storage_id ≠ 0): found, or made by
  // pack(words) into a buffer of `words` words and kept. If pack throws, the
  // entry is dropped and the exception passes on (a waiting thread packs).
  std::shared_ptr<const Words> get(const PackedKey& key, size_t words, const std::function<void(uint32_t*)>& pack);

  // A parameter just written (its storage now at `version`): its entries of an older version that
  // `remakable` accepts and that no thread packs or reads, taken out with their buffers, to be packed again
  // from the new values and given back (put). Each taken key keeps its old version.
  struct Taken {
    PackedKey key;
    std::shared_ptr<Words> words;
  };
  std::vector<Taken> take_stale(uint64_t storage_id, uint64_t version,
                                const std::function<bool(const PackedKey&)>& remakable);
  // A packing made outside get() (a taken entry packed again): kept under `key`, replacing an entry of the
  // same place that no thread packs.
  void put(const PackedKey& key, std::shared_ptr<Words> words);

  struct Stats {
    int64_t hits = 0, misses = 0;  // a wait for another thread's packing counts as a hit
    int64_t remade = 0;            // entries packed again as their parameter was written (put)
    size_t entries = 0, bytes = 0;
  };
  Stats stats() const;
  void clear();

 private:
  struct Entry {
    PackedKey key;
    std::shared_ptr<Words> words;
    uint64_t last_use = 0;
    bool packing = false;  // a thread is filling `words`; readers wait
  };
  void evict_past_capacity();  // mutex_ held

  mutable std::mutex mutex_;
  std::condition_variable packed_;  // an entry finished packing, or was dropped
  std::vector<Entry> entries_;
  uint64_t clock_ = 0;
  Stats stats_;
};

PackedOperandCache& packed_operand_cache();

// False where TG_KEEP_PACKED=0 is in the environment: every B is then packed on every call (to measure what
// keeping saves). Read once.
bool keep_packed_parameters();

}  // namespace tg::cpu
