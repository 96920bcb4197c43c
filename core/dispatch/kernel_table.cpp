#include "core/dispatch/kernel_table.h"

#include <mutex>

#include "core/dispatch/backend.h"
#include "core/dispatch/backend_registry.h"
#include "core/services/error.h"

namespace tg {

namespace {
// One lock for registering: bodies register while the program starts and
// when a device module loads, possibly while another thread runs kernels,
// which read a body's slot without it.
std::mutex& tables_lock() {
  static std::mutex lock;
  return lock;
}
std::vector<const KernelTableBase*>& all_tables() {
  static std::vector<const KernelTableBase*> tables;
  return tables;
}
// The kinds in the order they were first seen: a kind's slot is its position, the reference's 0.
std::vector<std::string>& kinds() {
  static std::vector<std::string> names{"reference"};
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

int kind_index_locked(std::string_view kind) {
  std::vector<std::string>& names = kinds();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == kind) return static_cast<int>(i);
  if (names.size() == kMaxBackendKinds)
    fail("backend kind {}: the kernel tables hold {} kinds ({}); raise kMaxBackendKinds (core/dispatch/kernel_table.h)", kind,
         kMaxBackendKinds, joined(names));
  names.emplace_back(kind);
  return static_cast<int>(names.size() - 1);
}
}  // namespace

std::string_view backend_kind(std::string_view backend_name) {
  return backend_name.substr(0, backend_name.find(':'));
}

int backend_kind_index(std::string_view kind) {
  std::lock_guard guard(tables_lock());
  return kind_index_locked(kind);
}

bool backend_has_device_memory(const Backend& backend) { return backend.has_device_memory(); }

KernelTableBase::KernelTableBase(std::string_view name, ErasedBody reference) : name_(name) {
  std::lock_guard guard(tables_lock());
  all_tables().push_back(this);
  bodies_[0].store(reference, std::memory_order_release);  // slot 0: the reference backend's
}

std::vector<std::string> KernelTableBase::backends() const {
  std::lock_guard guard(tables_lock());
  std::vector<std::string> with_body;
  for (size_t i = 0; i < kinds().size(); ++i)
    if (bodies_[i].load(std::memory_order_acquire) != nullptr) with_body.push_back(kinds()[i]);
  return with_body;
}

void KernelTableBase::add_erased(std::string_view kind, ErasedBody body) {
  std::lock_guard guard(tables_lock());
  std::atomic<ErasedBody>& slot = bodies_[kind_index_locked(kind)];
  if (slot.load(std::memory_order_acquire) != nullptr)
    fail("kernel {}: a body for backend {} is registered twice", name_, kind);
  slot.store(body, std::memory_order_release);
}

KernelTableBase::ErasedBody KernelTableBase::body_for(const Backend& backend) const {
  if (ErasedBody own = bodies_[backend.kind_index()].load(std::memory_order_acquire)) return own;
  if (backend.has_device_memory())
    fail("kernel {}: not implemented on backend {} (bodies: {})", name_, backend.name(), joined(backends()));
  if (ErasedBody host = bodies_[default_host_backend().kind_index()].load(std::memory_order_acquire)) return host;
  return bodies_[0].load(std::memory_order_acquire);
}

std::vector<KernelListing> kernel_tables() {
  std::vector<const KernelTableBase*> tables;
  {
    std::lock_guard guard(tables_lock());
    tables = all_tables();
  }
  std::vector<KernelListing> listing;
  for (const KernelTableBase* t : tables) listing.push_back({t->name(), t->backends()});
  return listing;
}

}  // namespace tg
