#include "core/kernel_table.h"

#include <mutex>

#include "core/backend.h"
#include "core/error.h"

namespace tg {

namespace {
// One lock for every table: bodies register while the program starts and
// when a device module loads, possibly while another thread runs kernels.
std::mutex& tables_lock() {
  static std::mutex lock;
  return lock;
}
std::vector<const KernelTableBase*>& all_tables() {
  static std::vector<const KernelTableBase*> tables;
  return tables;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}
}  // namespace

std::string_view backend_kind(std::string_view backend_name) {
  return backend_name.substr(0, backend_name.find(':'));
}

KernelTableBase::KernelTableBase(std::string_view name, ErasedBody reference) : name_(name), reference_(reference) {
  std::lock_guard guard(tables_lock());
  all_tables().push_back(this);
}

std::vector<std::string> KernelTableBase::backends() const {
  std::lock_guard guard(tables_lock());
  std::vector<std::string> kinds;
  for (const auto& [kind, body] : bodies_) kinds.push_back(kind);
  return kinds;
}

void KernelTableBase::add_erased(std::string_view kind, ErasedBody body) {
  std::lock_guard guard(tables_lock());
  for (const auto& entry : bodies_)
    if (entry.first == kind) fail("kernel {}: a body for backend {} is registered twice", name_, kind);
  bodies_.emplace_back(kind, body);
}

KernelTableBase::ErasedBody KernelTableBase::body_for(const Backend& backend) const {
  const std::string_view kind = backend_kind(backend.name());
  {
    std::lock_guard guard(tables_lock());
    for (const auto& [k, body] : bodies_)
      if (k == kind) return body;
  }
  if (!backend.has_device_memory()) return reference_;
  const std::vector<std::string> kinds = backends();
  fail("kernel {}: not implemented on backend {} (bodies: reference{}{})", name_, backend.name(),
       kinds.empty() ? "" : ", ", joined(kinds));
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
