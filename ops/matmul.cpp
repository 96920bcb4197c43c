#include "ops/matmul.h"

#include <utility>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/reshape.h"

namespace tg {

namespace {

// A (..., R, C) operand seen as a 3-D (B, R, C) view over `batch` (the output's
// batch shape): stride 0 when it has no batch of its own, one stride when its
// batch dims collapse, else an expanded copy.
Tensor as_batched(const Tensor& t, const Shape& batch) {
  const int rank = t.ndim();
  const int64_t rows = t.shape()[rank - 2], cols = t.shape()[rank - 1];
  const int64_t row_stride = t.strides()[rank - 2], col_stride = t.strides()[rank - 1];
  Shape own_batch;
  for (int i = 0; i < rank - 2; ++i) own_batch.push_back(t.shape()[i]);
  const Shape shape3{batch.numel(), rows, cols};
  if (own_batch.numel() == 1) return make_view(t, shape3, Strides{0, row_stride, col_stride}, t.offset());
  if (own_batch == batch) {
    // Batch dims collapse into one stride when each steps over the next.
    bool collapses = true;
    for (int i = 0; i + 1 < rank - 2; ++i)
      if (t.shape()[i] != 1 && t.strides()[i] != t.strides()[i + 1] * t.shape()[i + 1]) collapses = false;
    if (collapses) return make_view(t, shape3, Strides{t.strides()[rank - 3], row_stride, col_stride}, t.offset());
  }
  Shape full = batch;
  full.push_back(rows);
  full.push_back(cols);
  Tensor expanded = compute::empty_like(t, full);
  compute::copy_into(t, expanded);
  return make_view(expanded, shape3, contiguous_strides(shape3), expanded.offset());
}

// The transpose of a matrix as a view (no copy).
Tensor transpose_view(const Tensor& t) { return permuted_view(t, {1, 0}); }

// Swaps the last two dimensions of a view (no copy).
Tensor swap_last(const Tensor& t) {
  Shape shape = t.shape(), strides = t.strides();
  const int r = t.ndim();
  std::swap(shape[r - 1], shape[r - 2]);
  std::swap(strides[r - 1], strides[r - 2]);
  return make_view(t, shape, strides, t.offset());
}

// d(operand) for one side: product of the given 3-D views, summed to the operand's shape.
void accumulate_operand_grad(const std::shared_ptr<GradSlot>& operand, const Tensor& left, const Tensor& right,
                             const Shape& batch) {
  const Shape& shape = operand->shape;
  Shape full = batch;
  full.push_back(shape[shape.size() - 2]);
  full.push_back(shape[shape.size() - 1]);
  if (full == shape) {
    add_batched_product_grad(operand, left, right);
    return;
  }
  Tensor g = compute::empty_like(left, full);
  compute::matmul_into(left, right, g, false);
  accumulate_grad(*operand, std::move(g));
}

}  // namespace

// C = A @ B;  dA += dC @ Bᵀ,  dB += Aᵀ @ dC
Tensor matmul(const Tensor& a, const Tensor& b) {
  const ProfileScope profile("matmul");
  check_same_kind(a, b, "matmul");
  check_floating(a, "matmul");
  if (a.ndim() == 0 || b.ndim() == 0)
    fail("matmul: {} @ {}: both operands need at least 1 dimension (a zero-dim tensor is a scalar: use mul)",
         a.shape().str(), b.shape().str());
  // PyTorch's 1-D rules: a vector on the left is a row (1, K), on the right a column (K, 1); that dimension is
  // dropped from the result. (K) @ (K) is the dot product, zero-dim.
  if (a.ndim() == 1 || b.ndim() == 1) {
    if (a.size(-1) != b.size(b.ndim() == 1 ? 0 : -2))
      fail("matmul: {} @ {}: inner dimensions {} and {} differ", a.shape().str(), b.shape().str(), a.size(-1),
           b.size(b.ndim() == 1 ? 0 : -2));
    const Tensor left = a.ndim() == 1 ? reshape(a, Shape{1, a.size(0)}) : a;
    const Tensor right = b.ndim() == 1 ? reshape(b, Shape{b.size(0), 1}) : b;
    const Tensor c = matmul(left, right);
    Shape out = c.shape();  // (..., 1 or M, 1 or N)
    if (b.ndim() == 1) out.erase(out.size() - 1);
    if (a.ndim() == 1) out.erase(out.size() - (b.ndim() == 1 ? 1 : 2));
    return reshape(c, out);
  }
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  if (b.size(-2) != k)
    fail("matmul: {} @ {}: inner dimensions {} and {} differ", a.shape().str(), b.shape().str(), k, b.size(-2));

  // The common case, without batch views: C (M, N) = A (M, K) @ B (K, N).
  if (a.ndim() == 2 && b.ndim() == 2) {
    Tensor c = compute::empty_like(a, Shape{m, n});
    compute::matmul2d_into(a, b, c, false);
    const Saved a_saved = save_if(b.requires_grad(), "a", a);  // dB reads A
    const Saved b_saved = save_if(a.requires_grad(), "b", b);  // dA reads B
    record("matmul", {&a, &b}, c, {a_saved, b_saved},
           [da = slot_of(a), db = slot_of(b), a_saved, b_saved, a_strides = a.strides(),
            b_strides = b.strides()](const Tensor& dc) {
             if (da) add_product_grad(da, a_strides, dc, transpose_view(b_saved.get()));  // dA += dC Bᵀ
             if (db) add_product_grad(db, b_strides, transpose_view(a_saved.get()), dc);  // dB += Aᵀ dC
           });
    return c;
  }

  // A (..., M, K) @ B (K, N) with A contiguous: one large 2-D product.
  if (b.ndim() == 2 && a.ndim() > 2 && a.is_contiguous()) {
    Shape out_shape = a.shape();
    out_shape[out_shape.size() - 1] = n;
    return reshape(matmul(reshape(a, Shape{-1, k}), b), out_shape);
  }

  Shape a_batch, b_batch;
  for (int i = 0; i < a.ndim() - 2; ++i) a_batch.push_back(a.shape()[i]);
  for (int i = 0; i < b.ndim() - 2; ++i) b_batch.push_back(b.shape()[i]);
  const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul (batch dimensions)");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor c = compute::empty_like(a, out_shape);
  const Tensor a3 = as_batched(a, batch), b3 = as_batched(b, batch);
  compute::matmul_into(a3, b3, c, false);  // c (..., M, N) read as (B, M, N)

  const Saved a_saved = save_if(b.requires_grad(), "a", a3);  // dB reads A (its batched view)
  const Saved b_saved = save_if(a.requires_grad(), "b", b3);  // dA reads B
  record("matmul", {&a, &b}, c, {a_saved, b_saved},
         [da = slot_of(a), db = slot_of(b), a_saved, b_saved, batch](const Tensor& dc) {
           const Tensor dc3 = as_batched(dc, batch);
           if (da) accumulate_operand_grad(da, dc3, swap_last(b_saved.get()), batch);  // dA = dC @ Bᵀ
           if (db) accumulate_operand_grad(db, swap_last(a_saved.get()), dc3, batch);  // dB = Aᵀ @ dC
         });
  return c;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  if (a.ndim() != 1 || b.ndim() != 1) fail("dot: {} and {}: both must be 1-D", a.shape().str(), b.shape().str());
  return matmul(a, b);
}

Tensor mv(const Tensor& matrix, const Tensor& vector) {
  if (matrix.ndim() != 2 || vector.ndim() != 1)
    fail("mv: {} and {}: expected a matrix (M, K) and a vector (K)", matrix.shape().str(), vector.shape().str());
  return matmul(matrix, vector);
}

}  // namespace tg
