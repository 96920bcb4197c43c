#include "core/tensor/storage.h"

#include <atomic>

#include "core/dispatch/backend.h"
#include "core/services/host_allocator.h"
#include "core/services/profiler.h"

namespace tg {

namespace {
std::atomic<uint64_t> next_storage_id{1};
}  // namespace

Storage::Storage(size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), id_(next_storage_id.fetch_add(1, std::memory_order_relaxed)) {
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
