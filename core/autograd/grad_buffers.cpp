// Where backward functions put gradients (core/autograd/grad_buffers.h).
#include "core/autograd/grad_buffers.h"

#include <algorithm>
#include <vector>

#include "core/autograd/deferred_products.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace {
// A gradient arriving at a tensor whose node an earlier backward released
// could go no further: the user asked for a graph that is gone.
void check_graph_kept(const GradSlot& target) {
  if (target.graph_cleared && !target.retains_grad)
    fail("backward: a tensor on the path was recorded on a tape that was cleared or destroyed (its scope ended) "
         "before this backward; call backward while the tape lives");
  if (target.graph_freed && !target.retains_grad)  // graph_freed implies node == -1
    fail("backward: a tensor on the path was produced by a graph already freed by an earlier "
         "backward (pass {{.retain_graph = true}} to the first backward)");
}
}  // namespace

void accumulate_grad(GradSlot& target, Tensor g) {
  check_graph_kept(target);
  if (g.shape() != target.shape) g = compute::sum_to_shape(g, target.shape);
  if (g.dtype() != target.dtype)
    fail("backward: gradient dtype {} for a tensor of dtype {}", dtype_name(g.dtype()), dtype_name(target.dtype));
  if (target.grad == nullptr) {
    // Adopt g when nobody else can see it; otherwise copy, so that a later
    // in-place accumulation cannot change someone else's tensor.
    const long storage_owners = g.impl().storage.use_count();
    const bool sole_owner = g.impl_ptr().use_count() == 1 && g.is_contiguous() && g.shape() == target.shape &&
                            (storage_owners == 1 || (storage_owners == 2 && detail::adopt_consumed(g.impl().storage.get())));
    target.grad = sole_owner ? g.impl_ptr() : g.clone().impl_ptr();
    return;
  }
  compute::add_into(Tensor(target.grad), g);
}

void accumulate_grad(const Tensor& x, Tensor g) { accumulate_grad(x.slot(), std::move(g)); }

Tensor grad_buffer(GradSlot& target) {
  check_graph_kept(target);
  if (target.grad == nullptr) {
    Tensor zeros = Tensor::empty(target.shape, {target.dtype, target.device});
    compute::fill(zeros, 0);
    target.grad = zeros.impl_ptr();
  } else if (!Tensor(target.grad).is_contiguous()) {
    target.grad = contiguous_values(Tensor(target.grad)).impl_ptr();  // one laid out by grad_target(x, layout)
  }
  return Tensor(target.grad);
}

namespace {
// The dimensions of a tensor of `shape` and `strides` from the outermost in
// memory to the innermost, when that is not their own order (a transpose,
// or a transposed slice of a weight); empty otherwise, and when a stride is
// 0 or two are equal (broadcast or overlapping views have no order).
std::vector<int> permuted_order(const Shape& shape, const Strides& strides) {
  if (strides.size() != shape.size()) return {};
  const int rank = static_cast<int>(shape.size());
  std::vector<int> order;
  for (int i = 0; i < rank; ++i)
    if (shape[i] != 1) order.push_back(i);  // a dimension of size 1 can go anywhere
  std::sort(order.begin(), order.end(), [&](int x, int y) { return strides[x] > strides[y]; });
  for (size_t i = 0; i < order.size(); ++i)
    if (strides[order[i]] == 0 || (i > 0 && strides[order[i]] == strides[order[i - 1]])) return {};
  if (std::is_sorted(order.begin(), order.end())) return {};
  for (int i = 0; i < rank; ++i)
    if (shape[i] == 1) order.push_back(i);
  return order;
}

// A new uninitialized tensor of `shape` whose memory holds its dimensions in `order`.
Tensor empty_in_order(const Shape& shape, const std::vector<int>& order, DType dtype, Device device) {
  Shape memory_shape;
  std::vector<int> back(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    memory_shape.push_back(shape[order[i]]);
    back[order[i]] = static_cast<int>(i);
  }
  return permuted_view(Tensor::empty(memory_shape, {dtype, device}), back);
}
}  // namespace

GradTarget grad_target(GradSlot& target) {
  check_graph_kept(target);
  if (target.grad != nullptr) return {grad_buffer(target), true};
  Tensor fresh = Tensor::empty(target.shape, {target.dtype, target.device});
  target.grad = fresh.impl_ptr();
  return {fresh, false};
}

GradTarget grad_target(GradSlot& target, const Strides& strides) {
  check_graph_kept(target);
  const std::vector<int> order = target.node >= 0 ? permuted_order(target.shape, strides) : std::vector<int>{};
  if (order.empty()) return grad_target(target);
  if (target.grad != nullptr) {
    const Tensor existing(target.grad);
    if (permuted_order(existing.shape(), existing.strides()) == order && !existing.is_contiguous())
      return {existing, true};  // the buffer an earlier grad_target made in this order
    return {grad_buffer(target), true};
  }
  const Tensor fresh = empty_in_order(target.shape, order, target.dtype, target.device);
  target.grad = fresh.impl_ptr();
  return {fresh, false};
}

Tensor grad_buffer(const Tensor& x) { return grad_buffer(x.slot()); }

Tensor grad_buffer_but_part(GradSlot& target, int axis, int64_t start, int64_t length) {
  const GradTarget fresh = grad_target(target);
  if (fresh.accumulate) fail("grad_buffer_but_part: the tensor has a gradient already");
  const Tensor& buffer = fresh.buffer;
  if (buffer.numel() == 0) return buffer;
  // The dimensions before `axis` as one, then `axis`, then those after as one: zero the runs before and after
  // the part.
  const int64_t size = buffer.size(axis), inner = buffer.strides()[axis], outer = buffer.numel() / (size * inner);
  auto zero = [&](int64_t from, int64_t count) {
    if (count <= 0) return;
    const Shape shape{outer, count * inner};
    compute::fill(make_view(buffer, shape, Strides{size * inner, 1}, buffer.offset() + from * inner), 0);
  };
  zero(0, start);
  zero(start + length, size - start - length);
  return buffer;
}

void add_product_grad(const std::shared_ptr<GradSlot>& x, const Strides& strides, const Tensor& left,
                      const Tensor& right) {
  if (!deferred_products::hold(x, strides, left, right)) add_product_grad_now(*x, strides, left, right);
}

void add_batched_product_grad(const std::shared_ptr<GradSlot>& x, const Tensor& left, const Tensor& right) {
  if (!deferred_products::hold(x, Strides{}, left, right)) add_batched_product_grad_now(*x, left, right);
}

void add_batched_product_grad_now(GradSlot& x, const Tensor& left, const Tensor& right) {
  const GradTarget target = grad_target(x);
  compute::matmul_into(left, right, target.buffer, target.accumulate);
}

void add_product_grad_now(GradSlot& x, const Strides& strides, const Tensor& left, const Tensor& right) {
  const GradTarget target = grad_target(x, strides);
  if (target.buffer.is_contiguous())
    compute::matmul2d_into(left, right, target.buffer, target.accumulate);
  else
    compute::matmul2d_into(permuted_view(right, {1, 0}), permuted_view(left, {1, 0}),
                           permuted_view(target.buffer, {1, 0}), target.accumulate);
}

}  // namespace tg
