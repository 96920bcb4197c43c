#include "ops/scatter_add.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/services/profiler.h"
#include "core/autograd/tape.h"
#include "ops/gather.h"
#include "ops/index_select.h"

namespace tg {

namespace {

// A contiguous tensor as a column (numel, 1), a view.
Tensor as_column(const Tensor& t) { return make_view(t, Shape{t.numel(), 1}, Strides{1, 1}, t.offset()); }

void check_operands(const Tensor& x, int d, const Tensor& index, const Tensor& src) {
  if (index.dtype() != DType::i64) fail("scatter_add: index must be int64, got {}", dtype_name(index.dtype()));
  check_same_kind(x, src, "scatter_add");
  check_floating(x, "scatter_add");
  if (index.ndim() != x.ndim() || src.ndim() != x.ndim())
    fail("scatter_add: x {}, index {} and src {} must have the same rank", x.shape().str(), index.shape().str(),
         src.shape().str());
  for (int i = 0; i < x.ndim(); ++i) {
    if (index.size(i) > src.size(i))
      fail("scatter_add: index {} is larger than src {} in dimension {}", index.shape().str(), src.shape().str(), i);
    if (i != d && index.size(i) > x.size(i))
      fail("scatter_add: index {} is larger than x {} in dimension {} (only dimension {} may differ freely)",
           index.shape().str(), x.shape().str(), i, d);
  }
}

}  // namespace

Tensor scatter_add(const Tensor& x, int dim, const Tensor& index, const Tensor& src) {
  const ProfileScope profile("scatter_add");
  check_defined(x, "scatter_add", "x");
  check_defined(index, "scatter_add", "index");
  check_defined(src, "scatter_add", "src");
  if (x.ndim() == 0) fail("scatter_add: x is a scalar (shape ()); it needs a dimension to scatter along");
  const int d = normalize_axis(dim, x.ndim(), "scatter_add");
  check_operands(x, d, index, src);
  const int64_t n = index.numel();
  const Device device = x.device();
  // Where each index element sends its value in y, and where it reads it in src.
  const Tensor into = from_vector(detail::index_positions(x.shape(), d, index, true, "scatter_add"), Shape{n},
                                  {DType::i64, device});
  const Tensor from = from_vector(detail::index_positions(src.shape(), d, index, false, "scatter_add"), Shape{n},
                                  {DType::i64, device});
  Tensor y = contiguous_values(x.detach()).clone();
  const Tensor src_values = detail::gather_rows("scatter_add", as_column(contiguous_values(src.detach())), from);  // (n, 1)
  detail::scatter_add_rows("scatter_add", src_values, into, as_column(y));
  record("scatter_add", {&x, &src}, y,
         [dx_slot = slot_of(x), dsrc_slot = slot_of(src), into, from](const Tensor& dy_in) {
           const Tensor dy = contiguous_values(dy_in);
           if (dx_slot) compute::add_into(grad_buffer(*dx_slot), dy);
           if (!dsrc_slot) return;
           const Tensor dsrc = grad_buffer(*dsrc_slot);
           const Tensor picked = detail::gather_rows("scatter_add", as_column(dy), into);  // (n, 1)
           const Tensor scratch = compute::zeros_like(dsrc);  // contiguous: the rows kernel's table
           detail::scatter_add_rows("scatter_add", picked, from, as_column(scratch));
           compute::add_into(dsrc, scratch);
         });
  return y;
}

}  // namespace tg
