#include "ops/linear.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  const ProfileScope profile("linear");
  check_defined(x, "linear", "x");
  check_defined(w, "linear", "w");
  check_same_kind(x, w, "linear");
  if (b.defined()) check_same_kind(x, b, "linear");
  check_floating(x, "linear");
  if (x.ndim() < 1 || w.ndim() != 2 || x.size(-1) != w.size(1))
    fail("linear: x {} against w {}: w must be (out_features, in_features) = (N, {}), as F.linear's, with "
         "in_features = x's last size",
         x.shape().str(), w.shape().str(), x.ndim() < 1 ? 0 : x.size(-1));
  const int64_t n = w.size(0), k = w.size(1);

  const Tensor x2 = contiguous_values(x);
  const int64_t rows = x2.numel() / k;
  const Shape rows_k{rows, k}, rows_n{rows, n};
  const Tensor x2d = make_view(x2, rows_k, contiguous_strides(rows_k), x2.offset());  // (M, K)
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = n;
  if (b.defined() && broadcast_shapes(b.shape(), out_shape, "linear") != out_shape)
    fail("linear: b {} does not broadcast to the output {}", b.shape().str(), out_shape.str());
  Tensor y = compute::empty_like(x, out_shape);
  const Tensor y2d = make_view(y, rows_n, contiguous_strides(rows_n), y.offset());  // (M, N)
  if (b.defined()) compute::copy_into(b, y);                                      // y = b, broadcast
  compute::matmul2d_into(x2d, permuted_view(w, {1, 0}), y2d, b.defined());        // y (+)= x @ wᵀ

  const Saved x_saved = save_if(w.requires_grad(), "x", x2);  // dW reads X (x itself when contiguous)
  const Saved w_saved = save_if(x.requires_grad(), "w", w);   // dX reads W; db reads nothing
  record("linear", {&x, &w, &b}, y, {x_saved, w_saved},
         [dx_slot = slot_of(x), dw = slot_of(w), db = slot_of(b), x_saved, w_saved, rows_k, rows_n,
          w_strides = w.strides()](const Tensor& dy) {
           const Tensor g = contiguous_values(dy);
           const Tensor dy2d = make_view(g, rows_n, contiguous_strides(rows_n), g.offset());  // (M, N)
           if (dx_slot) {
             const GradTarget dx = grad_target(*dx_slot);  // contiguous, x's shape
             compute::matmul2d_into(dy2d, w_saved.get(),
                                    make_view(dx.buffer, rows_k, contiguous_strides(rows_k), dx.buffer.offset()),
                                    dx.accumulate);  // dX += dY W
           }
           if (dw) {
             const Tensor& x2 = x_saved.get();
             const Tensor x2d = make_view(x2, rows_k, contiguous_strides(rows_k), x2.offset());  // (M, K)
             add_product_grad(dw, w_strides, permuted_view(dy2d, {1, 0}), x2d);  // dW += dYᵀ X, in w's memory order
           }
           if (db) accumulate_grad(*db, g);  // summed to b's shape
         });
  return y;
}

}  // namespace tg
