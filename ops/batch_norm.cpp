#include "ops/batch_norm.h"

#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "core/tensor/compute.h"
#include "core/services/profiler.h"
#include "core/autograd/public_op.h"
#include "core/autograd/tape.h"
#include "kernels/batch_norm/batch_norm.h"

namespace tg {

namespace {

void check_channel_vector(const Tensor& t, const Tensor& x, int64_t C, const char* what) {
  if (!t.defined()) return;
  if (t.dtype() != x.dtype())
    fail("batch_norm: {} is {} but x is {} (convert with .to(dtype))", what, dtype_name(t.dtype()),
         dtype_name(x.dtype()));
  check_same_kind(x, t, "batch_norm");
  if (t.shape() != Shape{C})
    fail("batch_norm: {} must be ({},), one per channel of x {}, got {}", what, C, x.shape().str(), t.shape().str());
}

View optional_view(const Tensor& t) { return t.defined() ? t.view() : View{}; }

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  const ProfileScope profile("batch_norm");
  const PublicOpScope scope("batch_norm", {{"x", x}, {"weight", weight}, {"bias", bias}});
  check_defined(x, "batch_norm", "x");
  check_floating(x, "batch_norm");
  if (x.ndim() < 2) fail("batch_norm: x must be (N, C, ...) with at least 2 dims, got {}", x.shape().str());
  if (!x.device().is_host())
    fail("batch_norm: runs on host backends only (batch_norm has no {} body yet)", x.device().str());
  const int64_t B = x.size(0), C = x.size(1), L = x.numel() / std::max<int64_t>(B * C, 1);
  check_channel_vector(running_mean, x, C, "running_mean");
  check_channel_vector(running_var, x, C, "running_var");
  check_channel_vector(weight, x, C, "weight");
  check_channel_vector(bias, x, C, "bias");
  if (!training && (!running_mean.defined() || !running_var.defined()))
    fail("batch_norm: evaluation (training=false) normalises with running_mean and running_var; both must be given");
  if (running_mean.defined() != running_var.defined())
    fail("batch_norm: running_mean and running_var must be given together");
  for (const Tensor* t : {&running_mean, &running_var})
    if (t->defined() && t->requires_grad())
      fail("batch_norm: running statistics are buffers updated in place; they must not require grad");
  if (training && B * L < 2)
    fail("batch_norm: training needs more than one value per channel, got x {}", x.shape().str());
  if (!(eps >= 0)) fail("batch_norm: eps must be >= 0, got {}", eps);

  const Tensor xc = x.contiguous();
  const Shape blocks{B, C, L};
  const Tensor x3 = make_view(xc, blocks, contiguous_strides(blocks), xc.offset());
  const Tensor y = compute::empty_like(x3, blocks);
  const Tensor mean = compute::empty_like(x3, Shape{C}), rstd = compute::empty_like(x3, Shape{C});
  if (training && running_mean.defined()) {
    compute::mark_written(running_mean);
    compute::mark_written(running_var);
  }
  kernels::batch_norm(backend_for(x.device()),
                      {x3.view(), optional_view(weight), optional_view(bias),
                       training ? optional_view(running_mean) : running_mean.view(),
                       training ? optional_view(running_var) : running_var.view(), y.view(), mean.view(), rstd.view(),
                       training, momentum, eps});
  Tensor out = make_view(y, x.shape(), contiguous_strides(x.shape()), 0);
  const bool needed = x.requires_grad() || (weight.defined() && weight.requires_grad()) ||
                      (bias.defined() && bias.requires_grad());
  const Saved x_saved = save_if(needed, "x", x3), weight_saved = save_if(needed && weight.defined(), "weight", weight),
              mean_saved = save_if(needed, "mean", mean), rstd_saved = save_if(needed, "rstd", rstd);
  std::vector<Tensor> inputs = {x};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  record("batch_norm", inputs, out, {x_saved, weight_saved, mean_saved, rstd_saved},
         [dx_slot = slot_of(x), dw_slot = weight.defined() ? slot_of(weight) : nullptr,
          db_slot = bias.defined() ? slot_of(bias) : nullptr, x_saved, weight_saved, mean_saved, rstd_saved, blocks,
          training](const Tensor& dy_in) {
           const Tensor dyc = dy_in.contiguous();
           const Tensor dy = make_view(dyc, blocks, contiguous_strides(blocks), dyc.offset());
           auto buffer = [&](const std::shared_ptr<GradSlot>& slot, const Shape& shape) {
             if (!slot) return View{};
             const Tensor b = grad_buffer(*slot);
             compute::mark_written(b);
             return make_view(b, shape, contiguous_strides(shape), b.offset()).view();
           };
           const int64_t C = blocks[1];
           kernels::batch_norm_backward(
               backend_for(dy.device()),
               {x_saved.get().view(), weight_saved.defined() ? weight_saved.get().view() : View{},
                mean_saved.get().view(), rstd_saved.get().view(), dy.view(), buffer(dx_slot, blocks),
                buffer(dw_slot, Shape{C}), buffer(db_slot, Shape{C}), training});
         });
  return out;
}

}  // namespace tg
