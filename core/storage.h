#pragma once
// Storage: one block of memory on one device, shared by a tensor and its views.
// Host blocks come from a caching allocator so that the per-step churn of
// temporaries (forward activations, gradients) reuses memory instead of
// paging fresh memory in on every step.
#include <cstddef>
#include <memory>

#include "core/device.h"

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

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

// Host memory, 64-byte aligned, recycled through per-size free lists.
void* host_allocate(size_t nbytes);
void host_deallocate(void* ptr, size_t nbytes);

struct HostMemoryStats {
  size_t in_use_bytes = 0;   // handed out and not yet returned
  size_t cached_bytes = 0;   // returned and kept for reuse
  size_t peak_in_use_bytes = 0;
};
HostMemoryStats host_memory_stats();
// Returns every cached block to the system.
void host_release_cached();

}  // namespace tg
