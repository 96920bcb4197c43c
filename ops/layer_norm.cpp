#include "ops/layer_norm.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/tensor/compute.h"
#include "core/autograd/public_op.h"
#include "core/autograd/tape.h"
#include "kernels/layer_norm/layer_norm.h"
#include "ops/add.h"
#include "ops/div.h"
#include "ops/mean.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/sqrt.h"
#include "ops/sub.h"

namespace tg {

namespace {
void check_affine(const Tensor& t, const Shape& normalized_shape, const Tensor& x, const char* what) {
  if (!t.defined()) return;
  check_same_kind(x, t, "layer_norm");
  if (t.shape() != normalized_shape)
    fail("layer_norm: {} must have normalized_shape {}, got {}", what, normalized_shape.str(), t.shape().str());
}

// A vector (D) view of a contiguous weight or its gradient buffer.
View as_vector(const Tensor& t, int64_t D) {
  if (!t.defined()) return View{};
  return make_view(t, Shape{D}, Strides{1}, t.offset()).view();
}

// The fused kernel family (kernels/layer_norm/layer_norm.h) on host backends: saves
// x's rows, μ and 1/σ (R each) instead of the composed ops' centred copies.
Tensor fused_layer_norm(const Tensor& x_in, int64_t D, const Tensor& weight_in, const Tensor& bias_in, double eps) {
  const Tensor x = contiguous_values(reshape(x_in, Shape{-1, D}));  // (R, D)
  const Tensor weight = weight_in.defined() ? contiguous_values(weight_in) : Tensor();
  const Tensor bias = bias_in.defined() ? contiguous_values(bias_in) : Tensor();
  const int64_t R = x.size(0);
  Tensor y = compute::empty_like(x, Shape{R, D});
  const Tensor mean = compute::empty_like(x, Shape{R}), rstd = compute::empty_like(x, Shape{R});
  Backend& backend = backend_for(x.device());
  kernels::layer_norm(backend, {x.view(), as_vector(weight, D), as_vector(bias, D), y.view(), mean.view(),
                                rstd.view(), eps});
  Tensor out = make_view(y, x_in.shape(), contiguous_strides(x_in.shape()), 0);
  const bool needed = x_in.requires_grad() || (weight_in.defined() && weight_in.requires_grad()) ||
                      (bias_in.defined() && bias_in.requires_grad());
  const Saved x_saved = save_if(needed, "x", x), weight_saved = save_if(needed && weight.defined(), "weight", weight),
              mean_saved = save_if(needed, "mean", mean), rstd_saved = save_if(needed, "rstd", rstd);
  std::vector<Tensor> inputs = {x_in};
  if (weight_in.defined()) inputs.push_back(weight_in);
  if (bias_in.defined()) inputs.push_back(bias_in);
  record("layer_norm", inputs, out, {x_saved, weight_saved, mean_saved, rstd_saved},
         [dx_slot = slot_of(x_in), dw_slot = weight_in.defined() ? slot_of(weight_in) : nullptr,
          db_slot = bias_in.defined() ? slot_of(bias_in) : nullptr, x_saved, weight_saved, mean_saved, rstd_saved, D,
          has_weight = weight.defined(), shape = x_in.shape()](const Tensor& dy_in) {
           const Tensor& x = x_saved.get();
           const Tensor dy = contiguous_values(reshape(dy_in, Shape{-1, D}));
           const Tensor dx = dx_slot ? compute::empty_like(x, x.shape()) : Tensor();
           auto buffer = [&](const std::shared_ptr<GradSlot>& slot) {
             if (!slot) return Tensor();
             const Tensor b = grad_buffer(*slot);
             compute::mark_written(b);
             return b;
           };
           const Tensor dw = buffer(dw_slot), db = buffer(db_slot);
           kernels::layer_norm_backward(backend_for(x.device()),
                                        {x.view(), has_weight ? as_vector(weight_saved.get(), D) : View{},
                                         mean_saved.get().view(),
                                         rstd_saved.get().view(), dy.view(), dx.defined() ? dx.view() : View{},
                                         as_vector(dw, D), as_vector(db, D)});
           if (dx_slot) compute::add_into(grad_buffer(*dx_slot), make_view(dx, shape, contiguous_strides(shape), 0));
         });
  return out;
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias, double eps) {
  const ProfileScope profile("layer_norm");
  const PublicOpScope scope("layer_norm", {{"x", x}, {"weight", weight}, {"bias", bias}});  // names its inner ops' errors
  check_defined(x, "layer_norm", "x");
  check_floating(x, "layer_norm");
  const int dims = static_cast<int>(normalized_shape.size());
  if (dims == 0) fail("layer_norm: normalized_shape is empty; it names the last dims to normalise over");
  bool ends_with = x.ndim() >= dims;
  for (int i = 0; ends_with && i < dims; ++i) ends_with = x.shape()[x.ndim() - dims + i] == normalized_shape[i];
  if (!ends_with)
    fail("layer_norm: x {} must end in normalized_shape {}", x.shape().str(), normalized_shape.str());
  if (!(eps >= 0)) fail("layer_norm: eps must be >= 0, got {}", eps);
  check_affine(weight, normalized_shape, x, "weight");
  check_affine(bias, normalized_shape, x, "bias");
  const int64_t D = normalized_shape.numel();
  if (D == 0) fail("layer_norm: normalized_shape {} has no elements", normalized_shape.str());

  if (x.device().is_host()) return fused_layer_norm(x, D, weight, bias, eps);

  // (..., D): one row per normalised group.
  Shape rows;
  for (int i = 0; i < x.ndim() - dims; ++i) rows.push_back(x.shape()[i]);
  rows.push_back(D);
  const Tensor xr = reshape(x, rows);
  const Tensor centred = sub(xr, mean(xr, -1, true));                           // x − μ
  const Tensor variance = mean(mul(centred, centred), -1, true);                // σ² (biased)
  Tensor y = div(centred, sqrt(add(variance, eps)));                             // x̂
  if (weight.defined()) y = mul(y, reshape(weight, Shape{D}));
  if (bias.defined()) y = add(y, reshape(bias, Shape{D}));
  return reshape(y, x.shape());
}

}  // namespace tg
