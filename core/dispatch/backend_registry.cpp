#include "core/dispatch/backend_registry.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/services/error.h"

namespace tg {

namespace {

struct HostBackendEntry {
  std::string name;
  int rank = 0;
  Backend& (*get)() = nullptr;
};

// Filled while the program starts (static initialisers of the backends'
// files), read afterwards; a function-local static so that it exists before
// the first registration, whatever the order of initialisation.
std::vector<HostBackendEntry>& host_registry() {
  static std::vector<HostBackendEntry> entries;
  return entries;
}
std::mutex registry_mutex;
// default_host_backend() on every host kernel call: the answer is kept here,
// and forgotten when a backend registers.
std::atomic<Backend*> cached_default{nullptr};

}  // namespace

RegisterHostBackend::RegisterHostBackend(std::string_view name, int rank, Backend& (*get)()) {
  std::lock_guard lock(registry_mutex);
  auto& entries = host_registry();
  entries.push_back({std::string(name), rank, get});
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.rank > b.rank; });
  cached_default = nullptr;
}

std::vector<std::string> host_backend_names() {
  std::lock_guard lock(registry_mutex);
  std::vector<std::string> names;
  for (const auto& entry : host_registry()) names.push_back(entry.name);
  return names;
}

Backend& host_backend_named(std::string_view name) {
  Backend& (*get)() = nullptr;
  {
    std::lock_guard lock(registry_mutex);
    for (const auto& entry : host_registry())
      if (entry.name == name) get = entry.get;
  }
  if (get == nullptr) {
    const auto names = host_backend_names();
    fail("unknown backend '{}' (registered host backends: {})", name,
         names.empty() ? std::string("none") : fmt::format("'{}'", fmt::join(names, "', '")));
  }
  return get();
}

Backend& default_host_backend() {
  if (Backend* cached = cached_default.load(std::memory_order_acquire)) return *cached;
  Backend& (*get)() = nullptr;
  {
    std::lock_guard lock(registry_mutex);
    if (!host_registry().empty()) get = host_registry().front().get;
  }
  if (get == nullptr)
    fail("no host backend is registered: link the program with libtapegrad, which holds the cpu and "
         "reference backends (backends/)");
  Backend& backend = get();
  cached_default.store(&backend, std::memory_order_release);
  return backend;
}

}  // namespace tg
