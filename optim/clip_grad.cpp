#include "optim/clip_grad.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"
#include "optim/update_kernels.h"

namespace tg::optim {

namespace {
// Σ g², accumulated in the gradient's dtype, as a float64 scalar on its device.
Tensor sum_of_squares(const Tensor& g) {
  const Tensor flat = g.contiguous();
  const Tensor row = make_view(flat, Shape{flat.numel()}, Strides{1}, flat.offset());
  const Tensor squares = kernels::binary(BinaryOp::mul, row, row);
  return kernels::reduce(ReduceOp::sum, squares, 0).to(DType::f64);
}
}  // namespace

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  if (!(max_norm >= 0)) fail("clip_grad_norm: max_norm must be >= 0, got {}", max_norm);
  NoGrad no_grad;
  std::vector<Tensor> grads;
  // Summed where the gradients are and read back once: on a GPU each read waits for it.
  Tensor total;
  for (const Tensor& p : params) {
    check_defined(p, "clip_grad_norm", "parameter");
    const Tensor g = p.grad();
    if (!g.defined() || g.numel() == 0) continue;
    grads.push_back(g);
    const Tensor squares = sum_of_squares(g);
    total = total.defined() ? kernels::binary(BinaryOp::add, total, squares.to(total.device())) : squares;
  }
  const double norm = std::sqrt(total.defined() ? total.item() : 0.0);
  if (!std::isfinite(norm)) return norm;
  const double coefficient = max_norm / (norm + 1e-6);
  if (coefficient < 1)
    for (const Tensor& g : grads) scale_(g, coefficient);
  return norm;
}

}  // namespace tg::optim
