#include "core/tensor/tensor.h"

#include "core/services/error.h"

namespace tg {

Tensor Tensor::empty(const Shape& shape, TensorOptions options) {
  for (int64_t d : shape)
    if (d < 0) fail("empty: negative dimension in shape {}", shape.str());
  size_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(shape.numel()), dtype_size(options.dtype), &nbytes))
    fail("empty: shape {} of {} needs more bytes than a size_t holds", shape.str(), dtype_name(options.dtype));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(nbytes, options.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype;
  Tensor t(std::move(impl));
  if (options.requires_grad) t.requires_grad_();
  return t;
}

TensorImpl& Tensor::impl() const {
  if (!impl_) fail("tensor: use of an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int i) const { return impl().shape[normalize_axis(i, ndim(), "size")]; }

bool Tensor::is_contiguous() const { return view().is_contiguous(); }

GradSlot& Tensor::slot() const {
  TensorImpl& t = impl();
  if (t.autograd == nullptr) t.autograd = std::make_shared<GradSlot>(t.shape, t.dtype, device());
  return *t.autograd;
}

Tensor& Tensor::requires_grad_(bool value) {
  if (value && !is_floating(dtype()))
    fail("requires_grad: only floating tensors can require gradients, got {}", dtype_name(dtype()));
  // As PyTorch: an op's result already requires grad, so asking again changes nothing; only turning it off
  // is refused (the result is part of the graph), detach() makes the leaf that was meant.
  if (!is_leaf()) {
    if (value) return *this;
    fail("requires_grad: an op's result cannot stop requiring grad; detach() gives a tensor that does not");
  }
  if (value || impl().autograd != nullptr) slot().requires_grad = value;
  if (value) impl().storage->mark_reusable();
  return *this;
}

Tensor Tensor::grad() const { return impl().autograd ? Tensor(impl().autograd->grad) : Tensor(); }

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined() && (g.shape() != shape() || g.dtype() != dtype()))
    fail("set_grad: gradient {} {} does not match tensor {} {}", g.shape().str(),
         dtype_name(g.dtype()), shape().str(), dtype_name(dtype()));
  if (!g.defined() && impl().autograd == nullptr) return;
  slot().grad = g.impl_ptr();
}

Tensor& Tensor::retain_grad() {
  slot().retains_grad = true;
  return *this;
}

Tensor Tensor::detach() const {
  Tensor t = make_view(*this, shape(), strides(), offset());
  return t;
}

template <typename T> T* Tensor::data(const char* op) const {
  if (dtype() != dtype_of<T>())
    fail("{}: tensor holds {}, asked for {}", op, dtype_name(dtype()), dtype_name(dtype_of<T>()));
  if (!device().is_host()) fail("{}: tensor is on {}; copy it to the cpu first", op, device().str());
  return static_cast<T*>(impl().storage->data()) + impl().offset;
}
template float* Tensor::data<float>(const char*) const;
template double* Tensor::data<double>(const char*) const;
template int64_t* Tensor::data<int64_t>(const char*) const;
template bool* Tensor::data<bool>(const char*) const;
template float16* Tensor::data<float16>(const char*) const;
template bfloat16* Tensor::data<bfloat16>(const char*) const;
template int8_t* Tensor::data<int8_t>(const char*) const;

double Tensor::item() const {
  if (numel() != 1) fail("item: tensor of shape {} has {} elements, expected 1", shape().str(), numel());
  return at_flat(0);
}

double Tensor::at_flat(int64_t linear_index) const {
  if (linear_index < 0 || linear_index >= numel())
    fail("at: position {} is out of range for {} elements", linear_index, numel());
  const Tensor host = device().is_host() ? *this : detach().to(Device::cpu());
  int64_t position = host.offset();
  for (int i = host.ndim() - 1; i >= 0; --i) {
    position += (linear_index % host.shape()[i]) * host.strides()[i];
    linear_index /= host.shape()[i];
  }
  const void* base = host.impl().storage->data();
  switch (host.dtype()) {
    case DType::f32: return static_cast<const float*>(base)[position];
    case DType::f64: return static_cast<const double*>(base)[position];
    case DType::i64: return static_cast<double>(static_cast<const int64_t*>(base)[position]);
    case DType::boolean: return static_cast<const uint8_t*>(base)[position] != 0 ? 1.0 : 0.0;
    case DType::f16: return static_cast<float>(static_cast<const float16*>(base)[position]);
    case DType::bf16: return static_cast<float>(static_cast<const bfloat16*>(base)[position]);
    case DType::i8: return static_cast<const int8_t*>(base)[position];
  }
  return 0;
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  if (static_cast<int>(index.size()) != ndim())
    fail("at: {} indices for a tensor of rank {} (shape {})", index.size(), ndim(), shape().str());
  int64_t linear = 0, axis = 0;
  for (int64_t i : index) {
    const int64_t n = shape()[axis];
    if (i < -n || i >= n) fail("at: index {} is out of range for dimension {} of size {}", i, axis, n);
    linear = linear * n + (i < 0 ? i + n : i);
    ++axis;
  }
  return at_flat(linear);
}

template <typename T> std::vector<T> Tensor::to_vector() const {
  const Tensor host = contiguous_values(detach().to(Device::cpu()).to(dtype_of<T>()));
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<float16> Tensor::to_vector<float16>() const;
template std::vector<bfloat16> Tensor::to_vector<bfloat16>() const;
template std::vector<int8_t> Tensor::to_vector<int8_t>() const;

View Tensor::view() const {
  const TensorImpl& t = impl();
  const Storage& storage = *t.storage;
  return View{static_cast<char*>(storage.data()) + t.offset * dtype_size(t.dtype), t.dtype, t.shape, t.strides,
              storage.reusable() ? storage.id() : 0, storage.reusable() ? storage.version() : 0};
}

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

Tensor permuted_view(const Tensor& t, const std::vector<int>& dims) {
  Shape shape, strides;
  for (int d : dims) {
    shape.push_back(t.shape()[d]);
    strides.push_back(t.strides()[d]);
  }
  return make_view(t, shape, strides, t.offset());
}

void check_defined(const Tensor& t, const char* op, const char* argument) {
  if (!t.defined()) fail("{}: argument '{}' is an undefined tensor", op, argument);
}

void check_same_kind(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op, "first");
  check_defined(b, op, "second");
  if (a.dtype() != b.dtype())
    fail("{}: dtypes differ: {} and {} (convert one with .to(dtype))", op, dtype_name(a.dtype()),
         dtype_name(b.dtype()));
  if (a.device() != b.device())
    fail("{}: tensors are on different devices: {} and {} (copy one with .to(device))", op,
         a.device().str(), b.device().str());
}

void check_floating(const Tensor& t, const char* op) {
  if (is_half(t.dtype()))
    fail("{}: {} tensors are for storage and matrix products; this op computes in float32 or float64: convert "
         "with .to(DType::f32) first", op, dtype_name(t.dtype()));
  if (!is_floating(t.dtype()))
    fail("{}: needs a float32 or float64 tensor, got {}", op, dtype_name(t.dtype()));
}

int check_floating_axis(const Tensor& x, int axis, const char* op) {
  check_defined(x, op, "x");
  check_floating(x, op);
  if (x.ndim() == 0) fail("{}: x is a scalar (shape ()); it needs an axis", op);
  return normalize_axis(axis, x.ndim(), op);
}

}  // namespace tg
