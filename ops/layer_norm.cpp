#include "ops/layer_norm.h"

#include "core/error.h"
#include "core/profiler.h"
#include "core/public_op.h"
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

  // (..., D): one row per normalised group.
  Shape rows;
  for (int i = 0; i < x.ndim() - dims; ++i) rows.push_back(x.shape()[i]);
  rows.push_back(D);
  const Tensor xr = reshape(x, rows);
  const Tensor centred = sub(xr, mean(xr, {-1}, true));                           // x − μ
  const Tensor variance = mean(mul(centred, centred), {-1}, true);                // σ² (biased)
  Tensor y = div(centred, sqrt(add(variance, eps)));                             // x̂
  if (weight.defined()) y = mul(y, reshape(weight, Shape{D}));
  if (bias.defined()) y = add(y, reshape(bias, Shape{D}));
  return reshape(y, x.shape());
}

}  // namespace tg
