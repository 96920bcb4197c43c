#pragma once
// The table of fused kernels, keyed by kernel and backend (docs/kernels.md).
//
// A fused kernel family (kernels/<family>/) declares each of its kernels as
// a KernelTable<Args>: Args is its argument struct of Views and numbers, the
// check runs once on every call before any body, and the reference body
// (plain loops over host memory, the kernel's definition) comes with the
// table. Each backend's body registers itself from its own file of the
// family's folder: the cpu ones while the program starts, the CUDA ones when
// the CUDA module is loaded. A call runs the body registered for the
// backend's kind ("cpu", "reference", "cuda" for every "cuda:N"); a host
// backend without one runs the reference body, a device backend without one
// fails naming the kernel and the backends that have it.
//
// Backend keeps the primitives every op is made of; a fused kernel is one
// folder and one op, and Backend does not grow. Nothing here includes fmt,
// so nvcc compiles the families' headers too.
#include <string>
#include <string_view>
#include <vector>

namespace tg {

class Backend;

// The bodies of one kernel, type-erased; KernelTable<Args> is the typed face.
class KernelTableBase {
 public:
  using ErasedBody = void (*)();
  KernelTableBase(std::string_view name, ErasedBody reference);
  KernelTableBase(const KernelTableBase&) = delete;
  KernelTableBase& operator=(const KernelTableBase&) = delete;

  const std::string& name() const { return name_; }
  // The kinds of backend with a body of their own, in registration order.
  std::vector<std::string> backends() const;

 protected:
  // Throws when `kind` already has a body (two registrations of one body).
  void add_erased(std::string_view kind, ErasedBody body);
  // The body for `backend`: its kind's, the reference body on a host backend
  // without one; throws on a device backend without one.
  ErasedBody body_for(const Backend& backend) const;

 private:
  std::string name_;
  ErasedBody reference_;
  std::vector<std::pair<std::string, ErasedBody>> bodies_;  // kind -> body, under a lock (kernel_table.cpp)
};

template <typename Args>
class KernelTable : public KernelTableBase {
 public:
  using Body = void (*)(Backend& backend, const Args& args);
  using Check = void (*)(const Args& args);

  KernelTable(std::string_view name, Check check, Body reference)
      : KernelTableBase(name, reinterpret_cast<ErasedBody>(reference)), check_(check) {}

  // Registers the body of one kind of backend ("cpu", "cuda", ...).
  void add(std::string_view kind, Body body) { add_erased(kind, reinterpret_cast<ErasedBody>(body)); }

  // Checks the arguments once, then runs the backend's body.
  void run(Backend& backend, const Args& args) const {
    check_(args);
    reinterpret_cast<Body>(body_for(backend))(backend, args);
  }

 private:
  Check check_;
};

// Registers a body while the program starts (or a module loads), from a
// static object in the body's own file:
//   const RegisterKernel cpu_gates(gru::gates_table(), "cpu", &gates_cpu);
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

}  // namespace tg
