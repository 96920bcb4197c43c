#include "ops/sum.h"

#include <algorithm>

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/detail/host_tensor.h"

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

// Σ over `axes` of an int64 or bool tensor, exactly, as int64 (overflow refused): on the host, each
// element added to the output position its kept coordinates name.
Tensor integer_sum(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  const NoGrad no_grad;
  const std::vector<int64_t> values = contiguous_values((x.dtype() == DType::i64 ? x : x.to(DType::i64))).to_vector<int64_t>();
  Shape kept_shape;  // the input's shape with the summed axes 1
  for (int i = 0; i < x.ndim(); ++i) kept_shape.push_back(std::binary_search(axes.begin(), axes.end(), i) ? 1 : x.size(i));
  const Strides out_strides = contiguous_strides(kept_shape);
  std::vector<int64_t> out(static_cast<size_t>(kept_shape.numel()), 0);
  std::vector<int64_t> coord(static_cast<size_t>(x.ndim()), 0);
  for (size_t flat = 0; flat < values.size(); ++flat) {
    int64_t at = 0;
    for (int d = 0; d < x.ndim(); ++d) at += (kept_shape[d] == 1 ? 0 : coord[static_cast<size_t>(d)]) * out_strides[d];
    if (__builtin_add_overflow(out[static_cast<size_t>(at)], values[flat], &out[static_cast<size_t>(at)]))
      fail("sum: int64 overflow");
    for (int d = x.ndim() - 1; d >= 0; --d) {  // the next coordinate, row-major
      if (++coord[static_cast<size_t>(d)] < x.size(d)) break;
      coord[static_cast<size_t>(d)] = 0;
    }
  }
  Shape out_shape;
  for (int i = 0; i < x.ndim(); ++i)
    if (!std::binary_search(axes.begin(), axes.end(), i) || keepdim) out_shape.push_back(kept_shape[i]);
  return detail::host_tensor(out, out_shape, {DType::i64, x.device()});
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
  // bool and int64 sum to int64 exactly, as PyTorch's, never recorded.
  if (x.dtype() == DType::boolean || x.dtype() == DType::i64)
    return integer_sum(x, resolve_axes(axes, x.ndim(), "sum"), keepdim);
  check_floating(x, "sum");
  const std::vector<int> resolved = resolve_axes(axes, x.ndim(), "sum");
  Tensor kept = x;
  for (int a : resolved) kept = compute::reduce(ReduceOp::sum, kept, a);
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
    const Tensor g = contiguous_values(dy);
    compute::add_into(grad_buffer(*dx), make_view(g, kept_shape, contiguous_strides(kept_shape), g.offset()));
  });
  return y;
}

}  // namespace tg
