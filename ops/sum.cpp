#include "ops/sum.h"

#include <algorithm>

#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"

namespace tg {

namespace {
// Sorted, distinct, non-negative axes.
std::vector<int> resolve_axes(const std::vector<int>& axes, int rank, const char* op) {
  std::vector<int> resolved;
  for (int a : axes) resolved.push_back(normalize_axis(a, rank, op));
  std::sort(resolved.begin(), resolved.end());
  if (std::adjacent_find(resolved.begin(), resolved.end()) != resolved.end())
    fail("{}: an axis is listed twice", op);
  return resolved;
}
}  // namespace

Tensor sum(const Tensor& x) {
  const ProfileScope profile("sum");
  check_defined(x, "sum", "x");
  std::vector<int> all(x.ndim());
  for (int i = 0; i < x.ndim(); ++i) all[i] = i;
  return sum(x, all, false);
}

// y = Σ_axes x;  dx += dy broadcast back over the summed axes
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  const ProfileScope profile("sum");
  check_defined(x, "sum", "x");
  // bool and int64 sum to int64, as PyTorch's (counts: exact below 2^53), never recorded.
  if (x.dtype() == DType::boolean || x.dtype() == DType::i64)
    return sum(x.detach().to(DType::f64), axes, keepdim).to(DType::i64);
  check_floating(x, "sum");
  const std::vector<int> resolved = resolve_axes(axes, x.ndim(), "sum");
  Tensor kept = x;
  for (int a : resolved) kept = kernels::reduce(ReduceOp::sum, kept, a);
  if (resolved.empty()) kept = x.detach().clone();  // recorded below as sum
  Shape out_shape;
  for (int i = 0; i < x.ndim(); ++i) {
    const bool reduced = std::binary_search(resolved.begin(), resolved.end(), i);
    if (!reduced) out_shape.push_back(x.shape()[i]);
    else if (keepdim) out_shape.push_back(1);
  }
  const Shape kept_shape = kept.shape();
  Tensor y = make_view(kept, out_shape, contiguous_strides(out_shape), kept.offset());
  record("sum", {&x}, y, [dx = slot_of(x), kept_shape](const Tensor& dy) {  // saves nothing
    const Tensor g = dy.contiguous();
    kernels::add_into(grad_buffer(*dx), make_view(g, kept_shape, contiguous_strides(kept_shape), g.offset()));
  });
  return y;
}

}  // namespace tg
