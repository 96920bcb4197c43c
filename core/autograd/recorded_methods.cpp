// The Tensor methods built on the kernels and the tape (core/tensor/tensor.h
// declares them): backward, contiguous, clone, copy_ and the conversions to
// another dtype or device, recorded as PyTorch records them. Kept apart from
// core/tensor/tensor.cpp, which sits below both, so that no include goes back up.
#include <cstring>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "core/tensor/tensor.h"

namespace tg {

void Tensor::backward(BackwardOptions options) const { backward(Tensor(), options); }

void Tensor::backward(const Tensor& seed, BackwardOptions options) const {
  if (!requires_grad())
    fail("backward: the tensor does not require grad (no input of the ops that made it required grad)");
  const GradSlot& s = *impl().autograd;
  if (s.graph_cleared)
    fail("backward: the graph of this tensor is gone: the tape that recorded it was cleared or destroyed (its "
         "scope ended) before this backward; call backward while the tape lives");
  if (s.graph_freed)
    fail("backward: the graph of this tensor was freed by an earlier backward "
         "(pass {{.retain_graph = true}} to the first backward to keep it)");
  if (s.tape == nullptr) {  // a leaf: d self / d self = 1, so its gradient gains the seed (PyTorch's rule)
    if (seed.defined() && seed.shape() != shape())
      fail("backward: the seed is {} and the tensor {}", seed.shape().str(), shape().str());
    if (!seed.defined() && numel() != 1)
      fail("backward: a tensor of {} elements needs a seed of its shape (only a one-element tensor has an implied 1)",
           numel());
    Tensor one = Tensor::empty(shape(), {dtype(), device()});
    compute::fill(one, 1.0);
    accumulate_grad(*impl().autograd, seed.defined() ? seed : one);
    return;
  }
  s.tape->backward(*this, seed, options);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();  // recorded: the copy's gradient flows back to this view
}

namespace {
// The copies themselves, never recorded.
Tensor copy_as(const Tensor& x, DType dtype) {
  Tensor out = Tensor::empty(x.shape(), {dtype, x.device()});
  compute::copy_into(x, out);
  return out;
}

Tensor copy_to_device(const Tensor& x, Device target) {
  const Tensor src = contiguous_values(x);
  Tensor out = Tensor::empty(x.shape(), {x.dtype(), target});
  const size_t nbytes = x.numel() * dtype_size(x.dtype());
  const char* src_bytes = static_cast<const char*>(src.impl().storage->data()) + src.offset() * dtype_size(x.dtype());
  char* dst_bytes = static_cast<char*>(out.impl().storage->data());
  if (x.device().is_host() && target.is_host())
    std::memcpy(dst_bytes, src_bytes, nbytes);
  else if (x.device().is_host())
    device_backend(target).copy_from_host(src_bytes, dst_bytes, nbytes);
  else if (target.is_host())
    device_backend(x.device()).copy_to_host(src_bytes, dst_bytes, nbytes);
  else
    return copy_to_device(copy_to_device(x, Device::cpu()), target);
  return out;
}
}  // namespace

Tensor contiguous_values(const Tensor& t) {
  if (t.is_contiguous()) return t;
  return copy_as(t, t.dtype());
}

// clone, to(dtype) and to(device) are recorded as PyTorch's are: the gradient
// flows back unchanged, converted to the input's dtype or copied to its device.
// Casts to an integer or bool dtype end the graph (nothing to differentiate);
// casts between float types (16-bit ones included) pass the gradient back.
Tensor Tensor::clone() const {
  Tensor out = copy_as(*this, dtype());
  record("clone", {this}, out, [dx = slot_of(*this)](const Tensor& dy) { accumulate_grad(*dx, dy); });
  return out;
}

void Tensor::copy_(const Tensor& src) const { compute::copy_into(src, *this); }

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = copy_as(*this, target);
  auto differentiable = [](DType t) { return is_floating(t) || is_half(t); };
  if (differentiable(dtype()) && differentiable(target))
    record("to_dtype", {this}, out, [dx = slot_of(*this), source = dtype()](const Tensor& dy) {
      accumulate_grad(*dx, copy_as(dy, source));
    });
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor out = copy_to_device(*this, target);
  record("to_device", {this}, out, [dx = slot_of(*this), source = device()](const Tensor& dy) {
    accumulate_grad(*dx, copy_to_device(dy, source));
  });
  return out;
}

}  // namespace tg
