#pragma once
// Storage: one block of memory on one device, shared by a tensor and its views.
// Host blocks come from the caching allocator (core/services/host_allocator.h) so that
// the per-step churn of temporaries reuses memory instead of paging fresh
// memory in on every step.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/types/device.h"
#include "core/services/host_allocator.h"

namespace tg {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Counts the in-place writes to this memory (every kernel that writes into
  // an existing tensor bumps it), so that a value saved for backward can tell
  // that it was changed after it was saved (core/autograd/saved.h).
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

  // Unique for the process's life (an address is reused, an id never is).
  uint64_t id() const { return id_; }
  // Set for a parameter's memory (a leaf that requires grad): a product may
  // keep what it derives from it (a converted, packed copy) under (id,
  // version) and use it again until the next in-place write
  // (backends/cpu/packed_operand_cache.h).
  bool reusable() const { return reusable_; }
  void mark_reusable() { reusable_ = true; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  uint64_t version_ = 0;
  uint64_t id_;
  bool reusable_ = false;
};

}  // namespace tg
