#include "ops/embedding.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/index_select.h"

namespace tg {

// table (V, D), index int64 (S...) -> y (S..., D);  y[s, :] = table[index[s], :]
// dtable[index[s], :] += dy[s, :]   for every s with index[s] != padding_idx
Tensor embedding(const Tensor& table, const Tensor& index, int64_t padding_idx) {
  const ProfileScope profile("embedding");
  check_defined(table, "embedding", "table");
  check_defined(index, "embedding", "index");
  if (table.ndim() != 2) fail("embedding: table must be (V, D), got shape {}", table.shape().str());
  if (index.dtype() != DType::i64)
    fail("embedding: index must be int64, got {} {}", dtype_name(index.dtype()), index.shape().str());
  if (index.device() != table.device())
    fail("embedding: table is on {} but index is on {}", table.device().str(), index.device().str());
  const int64_t vocab = table.shape()[0];
  if (padding_idx < -1 || padding_idx >= vocab)
    fail("embedding: padding_idx {} is out of range for a table of {} rows (use -1 for none)", padding_idx,
         vocab);
  if (index.ndim() + 1 > kMaxDims)
    fail("embedding: index of rank {} gives a result of rank {}; at most {} dimensions are supported",
         index.ndim(), index.ndim() + 1, kMaxDims);

  // Every index as one column: (N,), N = Π S.
  const Tensor index_c = contiguous_values(index);
  const Shape flat_shape{index.numel()};
  const Tensor flat = make_view(index_c, flat_shape, contiguous_strides(flat_shape), index_c.offset());
  const Tensor rows = detail::gather_rows("embedding", table, flat);  // (N, D)
  Shape out_shape = index.shape();
  out_shape.push_back(table.shape()[1]);
  Tensor y = make_view(rows, out_shape, contiguous_strides(out_shape), rows.offset());

  const Saved index_saved = save_if(table.requires_grad(), "index", flat);
  record("embedding", {&table}, y, {index_saved}, [dtable = slot_of(table), index_saved, padding_idx](const Tensor& dy) {
    const Tensor& flat = index_saved.get();
    const Tensor dy_c = contiguous_values(dy);
    const Shape rows_shape{flat.numel(), dtable->shape[1]};
    Tensor dy_rows = make_view(dy_c, rows_shape, contiguous_strides(rows_shape), dy_c.offset());
    if (padding_idx >= 0) {
      // Zero the rows that look up the padding entry: keep (N, 1) = index != padding_idx.
      const Tensor index_col = flat.to(DType::f64);
      const Tensor keep = compute::binary(
          BinaryOp::ne,
          make_view(index_col, Shape{flat.numel(), 1}, Strides{1, 1}, index_col.offset()),
          scalar(static_cast<double>(padding_idx), {DType::f64, flat.device()}));
      dy_rows = compute::where(keep, dy_rows, scalar(0, {dy.dtype(), dy.device()}));
    }
    detail::scatter_add_rows("embedding", dy_rows, flat, grad_buffer(*dtable));
  });
  return y;
}

}  // namespace tg
