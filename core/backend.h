#pragma once
// The backend interface: the small set of primitive kernels every device
// implements. Ops in ops/ are written against these; nothing above core/
// touches raw memory.
//
// Kernels see tensors as Views: a data pointer plus shape and strides in
// elements. A stride of 0 repeats an element (broadcasting). Kernels that
// write `out` never resize it; kernels whose comment says "+=" accumulate.
//
// Backends live in backends/, each its own library, and register themselves
// (core/backend_registry.h); nothing in core/ names one. Host memory is
// served by `cpu` (backends/cpu: OpenBLAS, both cores) or `reference`
// (backends/reference: plain loops, the readable definition of every
// kernel); a host backend overriding only some kernels falls back to the
// default host backend (the highest-ranked registered, cpu) for the rest.
// GPU memory by `cuda` (backends/cuda), a module loaded on first use.
//
// Fused kernels (the GRU step, additive attention, CTC, top-k, Adam, dropout
// masks, NLL) are not here: each family lives in its own folder of kernels/
// and keys its bodies by backend in a table (core/kernel_table.h).
#include <cstdint>
#include <string_view>

#include "core/device.h"
#include "core/threads.h"  // set_num_threads, num_threads
#include "core/elementwise.h"
#include "core/view.h"

namespace tg {

// UnaryOp and BinaryOp, with each function's definition, live in
// core/elementwise.h.
std::string_view unary_op_name(UnaryOp op);
std::string_view binary_op_name(BinaryOp op);

enum class ReduceOp : uint8_t { sum, max };

class Backend {
 public:
  // Where a backend's tensors live: host memory (the host backends: cpu,
  // reference, your own), or a device's own (cuda).
  enum class Memory : uint8_t { host, device };
  explicit Backend(Memory memory = Memory::host) : memory_(memory) {}
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;

  // Device memory (backends of non-host devices only).
  virtual void* allocate(size_t nbytes);
  virtual void deallocate(void* ptr, size_t nbytes);
  // Copies between this device and the host (non-host devices only).
  virtual void copy_to_host(const void* device_src, void* host_dst, size_t nbytes);
  virtual void copy_from_host(const void* host_src, void* device_dst, size_t nbytes);

  // out = value (out: any dtype, any strides)
  virtual void fill(const View& out, double value);
  // out = src, converting dtype; src is read through its strides (stride 0
  // broadcasts), out may be strided. Shapes equal.
  virtual void copy(const View& src, const View& out);
  // out = f(x, s); x and out float, same shape.
  virtual void unary(UnaryOp op, const View& x, const View& out, double scalar);
  // dx += f'(x) * dy, where y = f(x) is given too so that tanh/sigmoid/exp
  // reuse it. All same shape.
  virtual void unary_backward(UnaryOp op, const View& x, const View& y, const View& dy,
                              const View& dx, double scalar);
  // out = a (op) b; a and b already broadcast to out's shape (stride 0).
  // Comparisons write bool out. out may alias a (in-place accumulate).
  virtual void binary(BinaryOp op, const View& a, const View& b, const View& out);
  // out = cond ? a : b; cond bool; all broadcast to out's shape.
  virtual void where(const View& cond, const View& a, const View& b, const View& out);
  // out = reduce of x over `axis`; out has x's shape with that axis of size 1,
  // contiguous. For max, `argmax` (int64, out's shape) receives the index of the
  // first maximum when non-null.
  virtual void reduce(ReduceOp op, const View& x, int axis, const View& out,
                      const View* argmax);
  // c = a @ b + beta * c, batched: a (B, M, K), b (B, K, N), c (B, M, N).
  // a and b may be strided (a transpose is a stride swap); beta is 0 or 1.
  // a and b float16 or bfloat16: products and sums in float32 (or wider), c
  // of their dtype or float32.
  virtual void matmul(const View& a, const View& b, const View& c, double beta);
  // out[i, :] = table[index[i], :]; table (V, D), index int64 (N), out (N, D).
  virtual void gather_rows(const View& table, const View& index, const View& out);
  // table[index[i], :] += src[i, :]; src (N, D), index int64 (N), table (V, D).
  virtual void scatter_add_rows(const View& src, const View& index, const View& table);
  // Row-wise over the last axis, contiguous (R, C):
  //   softmax  y = e^(x - max) / Σ e^(x - max)
  //   log      y = x - max - ln Σ e^(x - max)
  virtual void softmax(const View& x, const View& out, bool log);
  // dx += y * (dy - Σ dy*y)   (softmax)
  // dx += dy - e^y * Σ dy     (log softmax, y = log-probabilities)
  virtual void softmax_backward(const View& y, const View& dy, const View& dx, bool log);
  // Threads this backend's host kernels use (host backends with a pool).
  virtual void set_num_threads(int /*n*/) {}
  virtual int num_threads() const { return 1; }

 bool has_device_memory() const { return memory_ == Memory::device; }

 protected:
  // The backend that runs primitives this one does not override: on a host
  // backend the default host backend (core/backend_registry.h); a device
  // backend fails, naming the kernel it lacks.
  Backend& fallback(std::string_view kernel);

 private:
  Memory memory_;
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
