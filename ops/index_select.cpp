#include "ops/index_select.h"

#include <string>
#include <string_view>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace detail {

namespace {
// Runs a row kernel, rethrowing its errors (an index out of range) under `op`.
template <typename Fn>
void with_op_name(const char* op, std::string_view kernel, Fn&& run) {
  try {
    run();
  } catch (const Error& e) {
    std::string_view message = e.what();
    if (message.starts_with(kernel) && message.substr(kernel.size()).starts_with(": "))
      message.remove_prefix(kernel.size() + 2);
    fail("{}: {}", op, message);
  }
}
}  // namespace

Tensor gather_rows(const char* op, const Tensor& table, const Tensor& index) {
  Tensor out;
  with_op_name(op, "gather_rows", [&] { out = compute::gather_rows(table, index); });
  return out;
}

void scatter_add_rows(const char* op, const Tensor& src, const Tensor& index, const Tensor& table) {
  with_op_name(op, "scatter_add_rows", [&] { compute::scatter_add_rows(src, index, table); });
}

Tensor move_axis(const Tensor& t, int from, int to) {
  std::vector<int> order;
  for (int d = 0; d < t.ndim(); ++d)
    if (d != from) order.push_back(d);
  order.insert(order.begin() + to, from);
  return permuted_view(t, order);
}

}  // namespace detail

namespace {
// A contiguous tensor of shape (n, rest...) viewed as the matrix (n, Π rest).
Tensor as_rows(const Tensor& t) {
  const Tensor c = contiguous_values(t);
  int64_t cols = 1;
  for (int d = 1; d < c.ndim(); ++d) cols *= c.shape()[d];
  const Shape shape{c.shape()[0], cols};
  return make_view(c, shape, contiguous_strides(shape), c.offset());
}
}  // namespace

// y[..., k, ...] = x[..., index[k], ...];  dx[..., index[k], ...] += dy[..., k, ...]
Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  const ProfileScope profile("index_select");
  check_defined(x, "index_select", "x");
  check_defined(index, "index_select", "index");
  if (x.ndim() == 0) fail("index_select: cannot index a scalar (shape ())");
  const int a = normalize_axis(axis, x.ndim(), "index_select");
  if (index.dtype() != DType::i64 || index.ndim() != 1)
    fail("index_select: index must be a 1-D int64 tensor, got {} {}", dtype_name(index.dtype()),
         index.shape().str());
  if (index.device() != x.device())
    fail("index_select: x is on {} but index is on {}", x.device().str(), index.device().str());

  // Move the axis first, gather whole rows of the (n, rest) matrix, move it back.
  const Tensor moved = detail::move_axis(x, a, 0);
  const Tensor rows = detail::gather_rows("index_select", as_rows(moved), index);
  Shape moved_shape = moved.shape();
  moved_shape[0] = index.shape()[0];
  const Tensor gathered = make_view(rows, moved_shape, contiguous_strides(moved_shape), rows.offset());
  Tensor y = a == 0 ? gathered : contiguous_values(detail::move_axis(gathered, 0, a));

  const Saved index_saved = save_if(x.requires_grad(), "index", index);
  record("index_select", {&x}, y, {index_saved}, [dx_slot = slot_of(x), a, index_saved](const Tensor& dy) {
    const Tensor& index = index_saved.get();
    const Tensor dy_rows = as_rows(detail::move_axis(dy, a, 0));
    const Tensor dx = grad_buffer(*dx_slot);
    if (a == 0) {
      detail::scatter_add_rows("index_select", dy_rows, index, as_rows(dx));
      return;
    }
    const Tensor moved_dx = compute::zeros_like(detail::move_axis(dx, a, 0));
    detail::scatter_add_rows("index_select", dy_rows, index, as_rows(moved_dx));
    compute::add_into(dx, detail::move_axis(moved_dx, 0, a));
  });
  return y;
}

}  // namespace tg
