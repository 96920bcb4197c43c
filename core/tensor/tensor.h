#pragma once
// Tensor: an n-dimensional array on one device, row-major, with shape and
// strides over a shared Storage so that reshape, transpose and slice are cheap
// views. A Tensor is a handle: copies share the same data and gradient.
//
// Autograd: a tensor that requires grad and is produced by an op while
// gradients are recorded has a gradient slot (core/tensor/grad_slot.h) that remembers
// its node on the tape; `backward()` runs the tape in reverse. Leaves (tensors
// made by the user) keep their `grad()`.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "core/dispatch/backend.h"
#include "core/types/device.h"
#include "core/types/dtype.h"
#include "core/tensor/grad_slot.h"
#include "core/types/scalar.h"
#include "core/types/shape.h"
#include "core/tensor/storage.h"

namespace tg {

class Tape;

struct BackwardOptions {
  bool retain_graph = false;  // keep the nodes (and saved values) for another backward
};

struct TensorOptions {
  DType dtype = default_dtype();  // float32 unless set_default_dtype changed it
  Device device = Device::cpu();
  bool requires_grad = false;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Strides strides;  // in elements
  DType dtype = DType::f32;
  // Autograd state (core/tensor/grad_slot.h), null for a tensor that never needed a
  // gradient; a view made with make_view or detach() starts without one.
  std::shared_ptr<GradSlot> autograd;
};

struct TopK;
struct Sorted;

class Tensor {
 public:
  Tensor() = default;  // undefined: holds nothing
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  // A new contiguous tensor of uninitialised memory.
  static Tensor empty(const Shape& shape, TensorOptions options = {});

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int ndim() const { return impl().shape.size(); }
  // Size of dimension i; negative i counts from the end.
  int64_t size(int i) const;
  int64_t numel() const { return impl().shape.numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const;
  int64_t offset() const { return impl().offset; }

  // ---- autograd ----
  // False for an undefined tensor (an optional argument left out).
  bool requires_grad() const { return impl_ && impl_->autograd && impl_->autograd->requires_grad; }
  // Marks a leaf as needing gradients (floating dtypes only). Returns *this.
  Tensor& requires_grad_(bool value = true);
  // Accumulated gradient; undefined until a backward reaches this tensor.
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  // Keeps the gradient of a non-leaf after backward (for inspection).
  Tensor& retain_grad();
  bool is_leaf() const { return impl().autograd == nullptr || impl().autograd->node < 0; }
  // Runs backward from this scalar (seeded with d self = 1) on its tape,
  // through the nodes it reaches: other graphs on the tape stay usable.
  //   loss.backward();  loss.backward({.retain_graph = true});
  void backward(BackwardOptions options = {}) const;
  // Runs backward seeded with `seed` (same shape as self).
  void backward(const Tensor& seed, BackwardOptions options = {}) const;
  // The same data, cut off from the tape (no gradient flows through).
  Tensor detach() const;
  // This tensor's gradient slot, made when missing (for ops and the tape).
  GradSlot& slot() const;

  // ---- data ----
  // Pointer to the first element; requires matching dtype and host memory.
  template <typename T> T* data() const { return data<T>("data"); }
  // The same, with `op` naming the caller in the error (custom ops, core/types/visit_dtype.h):
  //   x.data<float>("softsign")  ->  "softsign: tensor holds float64, asked for float32"
  template <typename T> T* data(const char* op) const;
  // Value of a one-element tensor, as double.
  double item() const;
  // Element at a multi-index, as double (tests, printing).
  double at(std::initializer_list<int64_t> index) const;
  double at_flat(int64_t linear_index) const;  // row-major position
  // All elements in row-major order, converted to T.
  template <typename T> std::vector<T> to_vector() const;

  // Contiguous copy (or *this when already contiguous), recorded as
  // PyTorch's: the gradient flows back to this tensor. Kernels that only need
  // the values laid out in rows call contiguous_values() (below) instead.
  Tensor contiguous() const;
  // Copy converted to another dtype / moved to another device (or *this when
  // it is there already). Recorded, as in PyTorch: the gradient comes back
  // converted to this tensor's dtype / copied to its device. A cast to int64
  // or bool is not differentiable and ends the graph. detach() first for a
  // copy outside the graph.
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor to_host() const { return to(Device::cpu()); }
  // Deep copy; recorded (the gradient passes through unchanged).
  Tensor clone() const;
  // x[i] = select(x, 0, i) (ops/select.h, defined there): a view of entry i
  // of the first dimension, recorded; a negative i counts from the end.
  Tensor operator[](int64_t index) const;
  // ---- common ops as methods, as PyTorch's x.sum(), x.transpose(0, 1) ----
  // Each forwards to the free function of ops/ (declared in core, defined in
  // ops/tensor_methods.cpp, above core); both spellings record the same op.
  Tensor sum() const;                                                 // tg::sum(x)
  Tensor sum(int axis, bool keepdim = false) const;                   // tg::sum(x, axis)
  Tensor sum(const std::vector<int>& axes, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int axis, bool keepdim = false) const;
  Tensor mean(const std::vector<int>& axes, bool keepdim = false) const;
  Tensor max() const;  // whole tensor (tg::max(x, axis) gives values and indices)
  Tensor min() const;
  Tensor var() const;  // whole tensor, correction 1
  Tensor std() const;
  Tensor argmax(int axis, bool keepdim = false) const;
  Tensor reshape(const Shape& shape) const;
  Tensor transpose(int dim0, int dim1) const;
  Tensor permute(const std::vector<int>& dims) const;
  Tensor unsqueeze(int axis) const;
  Tensor squeeze(int axis) const;
  Tensor flatten(int start = 0, int end = -1) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor neg() const;
  Tensor pow(Scalar exponent) const;
  Tensor softmax(int axis) const;
  Tensor log_softmax(int axis) const;
  Tensor masked_fill(const Tensor& mask, double value) const;
  Tensor matmul(const Tensor& other) const;
  Tensor cumsum(int dim) const;
  TopK topk(int64_t k, int dim = -1, bool largest = true) const;  // ops/topk.h has TopK
  Tensor gather(int dim, const Tensor& index) const;
  Tensor index_select(int dim, const Tensor& index) const;
  Sorted sort(int dim = -1, bool descending = false, bool stable = false) const;  // ops/sort.h has Sorted
  Tensor argsort(int dim = -1, bool descending = false, bool stable = false) const;
  Tensor index_add(int dim, const Tensor& index, const Tensor& source, double alpha = 1) const;  // out of place
  Tensor repeat(const std::vector<int64_t>& repeats) const;  // x.repeat({2, 3}): tiling, as Tensor.repeat
  Tensor expand(const Shape& shape) const;                   // a view, -1 keeps a size
  Tensor clamp(std::optional<double> lo, std::optional<double> hi) const;
  Tensor clamp_min(double lo) const;
  Tensor clamp_max(double hi) const;
  std::vector<Tensor> split(int64_t size, int dim = 0) const;  // views, as torch.split
  std::vector<Tensor> chunk(int64_t chunks, int dim = 0) const;
  // PyTorch's x.view(shape): a reshape that must share x's memory, so x must
  // be contiguous (else an error pointing to reshape). view() without
  // arguments is something else: the View the kernels see, below.
  Tensor view(const Shape& shape) const;
  int dim() const { return ndim(); }  // PyTorch's x.dim()

  // Overwrites this tensor's elements with src's (broadcast to this shape,
  // dtype converted, same device), in place and not recorded: how parameters
  // are set, as PyTorch's `with torch.no_grad(): p.copy_(src)`.
  void copy_(const Tensor& src) const;

  // The View the backend kernels see.
  View view() const;
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  // Same underlying tensor (not value equality).
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// The values of `t` in row-major order from its offset (t itself when
// contiguous, else a copy), outside the graph: what an op's forward or
// backward hands its kernels. Users want t.contiguous(), which is recorded.
Tensor contiguous_values(const Tensor& t);

// A tensor sharing `base`'s storage with its own shape, strides and offset.
// Not recorded on the tape: ops that create views record themselves.
Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset);

// A view with dimensions reordered: y.shape[i] = t.shape[dims[i]]. Not recorded.
Tensor permuted_view(const Tensor& t, const std::vector<int>& dims);

// Throws unless `t` is defined; names the op and the argument.
void check_defined(const Tensor& t, const char* op, const char* argument);
// Throws unless both have the same dtype and device; names the op.
void check_same_kind(const Tensor& a, const Tensor& b, const char* op);
// Throws unless `t` has a floating dtype.
void check_floating(const Tensor& t, const char* op);
// For ops along one axis of a float tensor: x (argument "x") defined,
// floating, of rank ≥ 1, and `axis` in range; returns it normalized
// (negative counts from the end).
int check_floating_axis(const Tensor& x, int axis, const char* op);

}  // namespace tg
