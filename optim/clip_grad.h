#pragma once
// Gradient clipping by total norm, as torch.nn.utils.clip_grad_norm_ (1.13):
//   n = √(Σ_p ‖∇p‖²)                     over every parameter that has a gradient
//   ∇p ← ∇p · max_norm / (n + 1e-6)      when that factor is < 1 (n > max_norm − 1e-6)
// Returns n, the norm before clipping. Not recorded on the tape. On the
// host each ‖∇p‖² is one pass with squares and sum in double
// (kernels/sum_squares); on a device, composed in the gradient's dtype.
//
// When n is not finite (a gradient holds inf or nan) the gradients are left as
// they are and n is returned, so the caller can skip the step; PyTorch would
// multiply them by nan instead (or raise, with error_if_nonfinite=True).
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

// The norm and the factor clip_grad_norm would multiply the gradients by (1
// where it leaves them), with the gradients left as they are: an optimizer's
// step(factor) then reads each gradient as clip_grad_norm leaves it, one pass
// over them fewer (Optimizer::step(double)).
//   const ClipFactor clip = optim::clip_grad_factor(params, 1.0);
//   opt.step(clip.factor);
struct ClipFactor {
  double norm = 0, factor = 1;
};
ClipFactor clip_grad_factor(const std::vector<Tensor>& params, double max_norm);

// The same clipping with nothing read back (on a GPU a read waits for the
// device): returns n as a float64 scalar tensor on the gradients' device and
// multiplies them there by min(1, max_norm / (n + 1e-6)), or by 1 when n is not
// finite. The gradients come out bit for bit as clip_grad_norm leaves them.
Tensor clip_grad_norm_async(const std::vector<Tensor>& params, double max_norm);

}  // namespace tg::optim
