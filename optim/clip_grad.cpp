#include "optim/clip_grad.h"

#include <cmath>

#include "core/dispatch/backend.h"
#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "kernels/sum_squares/sum_squares.h"
#include "optim/update_kernels.h"

namespace tg::optim {

namespace {
// Σ g² as a float64 scalar on g's device: in one pass, squares and sum in
// double, on the host (kernels/sum_squares); composed on a device, squares
// and the sum in g's dtype.
Tensor sum_of_squares(const Tensor& g) {
  const Tensor flat = contiguous_values(g);
  const Tensor row = make_view(flat, Shape{flat.numel()}, Strides{1}, flat.offset());
  if (g.device().is_host()) {
    const Tensor sum = compute::empty_like(row, Shape{1}, DType::f64);
    kernels::sum_squares(backend_for(g.device()), {row.view(), sum.view()});
    return sum;
  }
  const Tensor squares = compute::binary(BinaryOp::mul, row, row);
  return compute::reduce(ReduceOp::sum, squares, 0).to(DType::f64);
}

// Σ over the gradients of Σ g², on their device (undefined when none has a
// gradient); `grads` receives the gradients.
Tensor squared_norm(const std::vector<Tensor>& params, double max_norm, std::vector<Tensor>& grads) {
  if (!(max_norm >= 0)) fail("clip_grad_norm: max_norm must be >= 0, got {}", max_norm);
  Tensor total;
  for (const Tensor& p : params) {
    check_defined(p, "clip_grad_norm", "parameter");
    const Tensor g = p.grad();
    if (!g.defined() || g.numel() == 0) continue;
    grads.push_back(g);
    const Tensor squares = sum_of_squares(g);
    total = total.defined() ? compute::binary(BinaryOp::add, total, squares.to(total.device())) : squares;
  }
  return total;
}

// The norm and the factor, read back once (on a GPU each read waits); `grads` receives the gradients.
ClipFactor read_clip_factor(const std::vector<Tensor>& params, double max_norm, std::vector<Tensor>& grads) {
  const Tensor total = squared_norm(params, max_norm, grads);
  const double norm = std::sqrt(total.defined() ? total.item() : 0.0);
  if (!std::isfinite(norm)) return {norm, 1.0};
  const double coefficient = max_norm / (norm + 1e-6);
  return {norm, coefficient < 1 ? coefficient : 1.0};
}

}  // namespace

ClipFactor clip_grad_factor(const std::vector<Tensor>& params, double max_norm) {
  NoGrad no_grad;
  std::vector<Tensor> grads;
  return read_clip_factor(params, max_norm, grads);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGrad no_grad;
  std::vector<Tensor> grads;
  const ClipFactor clip = read_clip_factor(params, max_norm, grads);
  if (clip.factor != 1)
    for (const Tensor& g : grads) scale_(g, clip.factor);
  return clip.norm;
}

Tensor clip_grad_norm_async(const std::vector<Tensor>& params, double max_norm) {
  NoGrad no_grad;
  std::vector<Tensor> grads;
  const Tensor total = squared_norm(params, max_norm, grads);
  if (!total.defined()) return scalar(0.0, {DType::f64});
  const Tensor total_scalar = make_view(total, Shape{}, Strides{}, total.offset());
  const Tensor norm = compute::unary(UnaryOp::sqrt, total_scalar);  // float64, on the gradients' device
  auto constant = [&](double v) { return full({}, v, {DType::f64, norm.device()}); };
  const Tensor one = constant(1);
  // factor = min(1, max_norm / (n + 1e-6)), and 1 where n is not finite (there n − n is NaN, not 0)
  const Tensor coefficient =
      compute::binary(BinaryOp::div, constant(max_norm), compute::unary(UnaryOp::add_scalar, norm, 1e-6));
  const Tensor finite = compute::binary(BinaryOp::eq, compute::binary(BinaryOp::sub, norm, norm), constant(0));
  const Tensor factor = compute::where(finite, compute::binary(BinaryOp::minimum, coefficient, one), one);
  // Cast once for the usual case of one dtype and device (to() returns the tensor itself when it matches).
  const Tensor factor_like = factor.to(grads.front().dtype()).to(grads.front().device());
  for (const Tensor& g : grads) compute::binary_into(BinaryOp::mul, g, factor_like.to(g.dtype()).to(g.device()));
  return norm;
}

}  // namespace tg::optim
