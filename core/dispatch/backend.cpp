#include "core/dispatch/backend.h"

#include "core/dispatch/backend_registry.h"
#include "core/dispatch/device_module.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_table.h"

namespace tg {

// Defaults: memory hooks belong to non-host devices.
void* Backend::allocate(size_t) { fail("backend {}: has no device memory of its own", name()); }
void Backend::deallocate(void*, size_t) { fail("backend {}: has no device memory", name()); }
void Backend::copy_to_host(const void*, void*, size_t) { fail("backend {}: host memory only", name()); }
void Backend::copy_from_host(const void*, void*, size_t) { fail("backend {}: host memory only", name()); }

int Backend::kind_index() const {
  int index = kind_index_.load(std::memory_order_relaxed);
  if (index < 0) kind_index_.store(index = backend_kind_index(backend_kind(name())), std::memory_order_relaxed);
  return index;
}

namespace {
thread_local Backend* selected_host_backend = nullptr;
}  // namespace

Backend& host_backend() {
  return selected_host_backend != nullptr ? *selected_host_backend : default_host_backend();
}

void set_host_backend(std::string_view name) { selected_host_backend = &host_backend_named(name); }

HostBackendScope::HostBackendScope(Backend& backend) : previous_(selected_host_backend) {
  selected_host_backend = &backend;
}
HostBackendScope::~HostBackendScope() { selected_host_backend = previous_; }

Backend& device_backend(Device device) {
  if (device.is_host()) return host_backend();
  std::string why;
  DeviceModule* module = find_device_module(device.kind, &why);
  if (module == nullptr) fail("device {}: {}", device.str(), why);
  return module->backend(device.index);
}

Backend& backend_for(Device device) {
  return device.is_host() ? host_backend() : device_backend(device);
}

void set_num_threads(int n) {
  if (n < 1) fail("set_num_threads: need at least 1 thread, got {}", n);
  for (const std::string& name : host_backend_names()) host_backend_named(name).set_num_threads(n);
}

int num_threads() { return default_host_backend().num_threads(); }

}  // namespace tg
