#pragma once
// What a backend is: a device's name, its memory, its copies to and from the
// host, its threads. What it computes is not here: every kernel, the
// primitives every op is made of (core/dispatch/primitives.h) and the fused families
// (kernels/), is a table of bodies keyed by backend kind
// (core/dispatch/kernel_table.h), and a backend's bodies register themselves there.
//
// Backends live in backends/, each its own library, and register themselves
// (core/dispatch/backend_registry.h); nothing in core/ names one. Host memory is
// served by `cpu` (backends/cpu: OpenBLAS, both cores) or `reference`
// (backends/reference: no bodies of its own, so every kernel runs its
// reference body, the readable definition); a host backend without a body
// for some kernel runs the default host backend's (cpu's). GPU memory by
// `cuda` (backends/cuda), a module loaded on first use.
#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/dispatch/matmul_precision.h"
#include "core/types/device.h"
#include "core/services/threads.h"  // set_num_threads, num_threads
#include "core/types/view.h"

namespace tg {

class Backend {
 public:
  // Where a backend's tensors live: host memory (the host backends: cpu,
  // reference, your own), or a device's own (cuda).
  enum class Memory : uint8_t { host, device };
  explicit Backend(Memory memory = Memory::host) : memory_(memory) {}
  virtual ~Backend() = default;
  // "cpu", "reference", "cuda:0": the part before ':' is the kind the kernel tables key bodies by.
  virtual std::string_view name() const = 0;

  // Device memory (backends of non-host devices only).
  virtual void* allocate(size_t nbytes);
  virtual void deallocate(void* ptr, size_t nbytes);
  // Copies between this device and the host (non-host devices only).
  virtual void copy_to_host(const void* device_src, void* host_dst, size_t nbytes);
  virtual void copy_from_host(const void* host_src, void* device_dst, size_t nbytes);
  // Threads this backend's host kernels use (host backends with a pool).
  virtual void set_num_threads(int /*n*/) {}
  virtual int num_threads() const { return 1; }
  // The precision a training run asking for `asked` multiplies at here: a backend whose bfloat16 products are
  // not faster than its float32 ones answers fp32 for bf16 (rounding the inputs would cost time and buy
  // nothing); by default, as asked.
  virtual MatmulPrecision training_precision(MatmulPrecision asked) const { return asked; }

  bool has_device_memory() const { return memory_ == Memory::device; }
  // This backend's slot in the kernel tables (backend_kind_index of its kind), found on first use.
  int kind_index() const;

 private:
  Memory memory_;
  mutable std::atomic<int> kind_index_{-1};
};

// The backend running kernels for tensors on `device`: for host memory, the
// selected host backend (default unless changed); else that device's backend,
// loading its module on first use.
Backend& backend_for(Device device);
// The backend owning memory of a non-host device (throws naming what is
// missing when its module or the device cannot be had).
Backend& device_backend(Device device);

// Selects the backend that runs host kernels on this thread by its registered
// name ("cpu", "reference"); throws naming the registered ones for another.
void set_host_backend(std::string_view name);
Backend& host_backend();

// Uses a host backend for the lifetime of the scope (tests run both).
class HostBackendScope {
 public:
  explicit HostBackendScope(Backend& backend);
  ~HostBackendScope();
  HostBackendScope(const HostBackendScope&) = delete;
  HostBackendScope& operator=(const HostBackendScope&) = delete;

 private:
  Backend* previous_;
};

}  // namespace tg
