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
#include <cstdint>
#include <string_view>

#include "core/device.h"
#include "core/dtype.h"
#include "core/adam_step.h"
#include "core/elementwise.h"
#include "core/shape.h"

namespace tg {

struct View {
  void* data = nullptr;  // first element, offset already applied
  DType dtype = DType::f32;
  Shape shape;
  Strides strides;  // in elements

  int64_t numel() const { return shape.numel(); }
  bool is_contiguous() const;
  template <typename T> T* as() const { return static_cast<T*>(data); }
};

// UnaryOp and BinaryOp, with each function's definition, live in
// core/elementwise.h.
std::string_view unary_op_name(UnaryOp op);
std::string_view binary_op_name(BinaryOp op);

enum class ReduceOp : uint8_t { sum, max };

class Backend {
 public:
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
  // Negative log-likelihood per row of log-probabilities logp (N, C), targets
  // int64 (N), label smoothing ε: loss_i = -(1-ε) logp[i, t_i] - ε/C Σ_c logp[i, c];
  // rows whose target is ignore_index get 0. loss (N).
  virtual void nll(const View& logp, const View& target, int64_t ignore_index, double smoothing,
                   const View& loss);
  // dlogp[i, c] += dloss_i * -((1-ε)[c = t_i] + ε/C), 0 for ignored rows.
  virtual void nll_backward(const View& target, int64_t ignore_index, double smoothing,
                            const View& dloss, const View& dlogp);

  // Fused GRU step (ops/gru_gates.h), row b of B, column j of H, unit column
  // strides; gi, gh (B, 3H) with gates r | z | n, h and out (B, H):
  //   r = σ(gi_r + gh_r)   z = σ(gi_z + gh_z)   n = tanh(gi_n + r ⊙ gh_n)
  //   out = n + z ⊙ (h - n)                      saved (B, 3H) = [r | z | n]
  virtual void gru_gates(const View& gi, const View& gh, const View& h, const View& out, const View& saved);
  // Given dout (B, H), writes (=, no accumulation):
  //   dh = dout ⊙ z,  a_n = dout (1 - z)(1 - n²),  a_z = dout (h - n) z(1 - z),
  //   a_r = a_n gh_n r(1 - r);   dgi = [a_r | a_z | a_n],  dgh = [a_r | a_z | a_n ⊙ r]
  virtual void gru_gates_backward(const View& saved, const View& gh, const View& h, const View& dout,
                                  const View& dgi, const View& dgh, const View& dh);

  // Additive attention scores (ops/additive_score.h), without keeping the
  // (B, S, A) sum: projected keys k (B, S, A), projected query q (B, A), v (A),
  // last axes unit-strided, score (B, S):
  //   score_bs = Σ_a v_a tanh(k_bsa + q_ba)
  virtual void additive_score(const View& keys, const View& query, const View& v, const View& score);
  // Given dscore (B, S), recomputes t = tanh(k + q) and accumulates (+=):
  //   dk_bsa += dscore_bs v_a (1 - t_bsa²),  dq_ba += Σ_s dk's term,  dv_a += Σ_bs dscore_bs t_bsa
  // Any of dkeys, dquery, dv may be null (no gradient wanted).
  virtual void additive_score_backward(const View& keys, const View& query, const View& v, const View& dscore,
                                       const View* dkeys, const View* dquery, const View* dv);

  // CTC (Graves et al. 2006; the recursion in core/ctc_recursion.h), sequence
  // b of B: log_probs (T, B, C) contiguous, targets int64 (B, S) contiguous
  // (row b's first target_lengths[b] labels), input_lengths and
  // target_lengths int64 (B), every length already checked, blank in [0, C):
  //   loss[b] = −ln Σ_{alignments π of targets[b] in input_lengths[b] steps} Π_t e^log_probs[t, b, π_t]
  //   grad[t, b, c] = ∂loss[b]/∂log_probs[t, b, c]   (0 for t ≥ input_lengths[b])
  // A sequence no alignment fits gets loss +inf and gradient 0. grad may be
  // null (no gradient wanted); loss (B).
  virtual void ctc_loss(const View& log_probs, const View& targets, const View& input_lengths,
                        const View& target_lengths, int64_t blank, const View& loss, const View* grad);

  // indices[r, j] = the column of row r's (j+1)-th entry in core/topk_order.h's
  // order (largest first, or smallest first; NaN largest; ties: lower column):
  // x (R, n) float, any strides; indices (R, k) int64 contiguous, k <= n.
  virtual void topk_rows(const View& x, bool largest, const View& indices);

  // One Adam step in place over a parameter (formulas in core/adam_update.h):
  // param, grad, exp_avg, exp_avg_sq and max_exp_avg_sq (Amsgrad; null
  // without) share shape and float dtype and are contiguous.
  virtual void adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                           const View* max_exp_avg_sq, const AdamStep& step);

  // Threads this backend's host kernels use (host backends with a pool).
  virtual void set_num_threads(int /*n*/) {}
  virtual int num_threads() const { return 1; }

  // Dropout's factors (ops/dropout.h), out contiguous float: element i is
  // 1 / (1 - p) where random_bits::uniform(key, i) < 1 - p, else 0
  // (core/random_bits.h), the same values on every backend.
  virtual void dropout_mask(const View& out, uint64_t key, double p);

 protected:
  // The backend that runs kernels this one does not override: the default
  // host backend (core/backend_registry.h). Device backends override it to fail.
  virtual Backend& fallback();
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

// Threads used by host kernels and OpenBLAS (default: all cores).
void set_num_threads(int n);
int num_threads();

}  // namespace tg
