#include "core/storage.h"

#include "core/backend.h"
#include "core/host_allocator.h"
#include "core/profiler.h"

namespace tg {

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
