#pragma once
// The kernel registry: every kernel, primitive or fused, is a table of bodies
// keyed by backend kind (docs/kernels.md).
//
// A kernel is a KernelTable<Args>: Args is its argument struct of Views and
// numbers; the check runs once on every call before any body (and, for
// kernels that read index values, a second check of those values on host
// memory); the reference body (plain loops over host memory, the kernel's
// definition) comes with the table and is the `reference` backend's body.
// Each other backend's body registers itself from its own file: the cpu ones
// while the program starts, the CUDA ones when the CUDA module is loaded. A
// call runs the body registered for the backend's kind ("cpu", "reference",
// "cuda" for every "cuda:N"); a host backend without one runs the default
// host backend's (cpu's; the reference body where cpu has none either); a
// device backend without one fails naming the kernel and the backends that
// have it. What a backend supports is read from its registrations
// (kernel_tables()). Nothing here includes fmt, so nvcc compiles the
// families' headers too.
#include <array>
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

namespace tg {

class Backend;
bool backend_has_device_memory(const Backend& backend);  // core/dispatch/backend.h

// Kinds of backend a table can hold a body for ("reference", "cpu", "cuda", one you add).
inline constexpr int kMaxBackendKinds = 16;

// The bodies of one kernel, type-erased; KernelTable<Args> is the typed face.
class KernelTableBase {
 public:
  using ErasedBody = void (*)();
  KernelTableBase(std::string_view name, ErasedBody reference);
  KernelTableBase(const KernelTableBase&) = delete;
  KernelTableBase& operator=(const KernelTableBase&) = delete;

  const std::string& name() const { return name_; }
  // The kinds of backend with a body, in registration order ("reference" first).
  std::vector<std::string> backends() const;

 protected:
  // Throws when `kind` already has a body (two registrations of one body).
  void add_erased(std::string_view kind, ErasedBody body);
  // The body for `backend` (see above); throws on a device backend without one. No lock: a read of one slot.
  ErasedBody body_for(const Backend& backend) const;

 private:
  std::string name_;
  std::array<std::atomic<ErasedBody>, kMaxBackendKinds> bodies_{};  // by backend_kind_index
};

template <typename Args>
class KernelTable : public KernelTableBase {
 public:
  using Body = void (*)(Backend& backend, const Args& args);
  using Check = void (*)(const Args& args);

  // host_check, when given, reads values (indices, targets) and runs only where they are in host memory.
  KernelTable(std::string_view name, Check check, Body reference, Check host_check = nullptr)
      : KernelTableBase(name, reinterpret_cast<ErasedBody>(reference)), check_(check), host_check_(host_check) {}

  // Registers the body of one kind of backend ("cpu", "cuda", ...).
  void add(std::string_view kind, Body body) { add_erased(kind, reinterpret_cast<ErasedBody>(body)); }

  // Checks the arguments once, then runs the backend's body.
  void run(Backend& backend, const Args& args) const {
    check_(args);
    if (host_check_ != nullptr && !backend_has_device_memory(backend)) host_check_(args);
    reinterpret_cast<Body>(body_for(backend))(backend, args);
  }

 private:
  Check check_;
  Check host_check_;
};

// Registers a body while the program starts (or a module loads), from a
// static object in the body's own file:
//   const RegisterKernel cpu_gates(gru_gates_table(), "cpu", &gates_cpu);
template <typename Args>
struct RegisterKernel {
  RegisterKernel(KernelTable<Args>& table, std::string_view kind, typename KernelTable<Args>::Body body) {
    table.add(kind, body);
  }
};

// Every kernel table, for listing: its name and the kinds with a body.
struct KernelListing {
  std::string name;
  std::vector<std::string> backends;
};
std::vector<KernelListing> kernel_tables();

// The kind of a backend's name, the key of the tables: "cuda:1" -> "cuda".
std::string_view backend_kind(std::string_view backend_name);
// A kind's slot in the tables, given on first use (at most kMaxBackendKinds kinds).
int backend_kind_index(std::string_view kind);

}  // namespace tg
