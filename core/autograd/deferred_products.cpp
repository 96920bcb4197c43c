// Weight gradients of a sequence's steps summed as one product (deferred_products.h).
#include "core/autograd/deferred_products.h"

#include <algorithm>
#include <vector>

#include "core/autograd/grad_buffers.h"
#include "core/autograd/tape.h"
#include "core/dispatch/matmul_precision.h"
#include "core/tensor/compute.h"

namespace tg::deferred_products {

namespace {

constexpr int64_t kMaxInner = 128;       // a product of K at most this is held ...
constexpr int64_t kMinOutput = 1 << 16;  // ... when its M·N is at least this
constexpr int64_t kDepth = 512;          // K of the summed product, at most: a block of the bf16 kernel

// One slot's held products: Σᵢ leftsᵢ (M, Kᵢ) @ rightsᵢ (Kᵢ, N).
struct Held {
  std::shared_ptr<GradSlot> slot;
  Strides strides;            // grad_target's layout
  MatmulPrecision precision;  // the products' when held, restored when added
  std::vector<Tensor> lefts, rights;
  int64_t depth = 0;  // Σ Kᵢ
};

// The backward on this thread holds these (a few slots: a layer's weights).
thread_local std::vector<Held> held;

Tensor transposed(const Tensor& t) { return permuted_view(t, {1, 0}); }

// Rows [row, row + count) of a contiguous 2-D tensor.
Tensor rows(const Tensor& t, int64_t row, int64_t count) {
  const Shape shape{count, t.size(1)};
  return make_view(t, shape, contiguous_strides(shape), t.offset() + row * t.size(1));
}

// Adds h's products as one: for 2-D ones, leftsᵢᵀ stacked as the rows of Lᵀ, rightsᵢ as those of R; for a
// batch, each item's leftsᵢ side by side as the columns of its L, its rightsᵢ stacked as the rows of its R.
void add(const Held& h) {
  const MatmulPrecisionGuard precision(h.precision);
  const bool batched = h.lefts[0].ndim() == 3;
  if (h.lefts.size() == 1) {
    if (batched)
      add_batched_product_grad_now(*h.slot, h.lefts[0], h.rights[0]);
    else
      add_product_grad_now(*h.slot, h.strides, h.lefts[0], h.rights[0]);
    return;
  }
  if (batched) {
    const int64_t items = h.lefts[0].size(0), m = h.lefts[0].size(1), n = h.rights[0].size(2);
    const Tensor left = compute::empty_like(h.lefts[0], Shape{items, m, h.depth});    // (B, M, ΣK)
    const Tensor right = compute::empty_like(h.rights[0], Shape{items, h.depth, n});  // (B, ΣK, N)
    int64_t column = 0;
    for (size_t i = 0; i < h.lefts.size(); ++i) {
      const int64_t k = h.lefts[i].size(2);
      const Tensor left_columns =
          make_view(left, Shape{items, m, k}, Strides{m * h.depth, h.depth, 1}, left.offset() + column);
      const Tensor right_rows =
          make_view(right, Shape{items, k, n}, Strides{h.depth * n, n, 1}, right.offset() + column * n);
      compute::copy_into(h.lefts[i], left_columns);
      compute::copy_into(h.rights[i], right_rows);
      column += k;
    }
    add_batched_product_grad_now(*h.slot, left, right);
    return;
  }
  const int64_t m = h.lefts[0].size(0), n = h.rights[0].size(1);
  const Tensor left_rows = compute::empty_like(h.lefts[0], Shape{h.depth, m});   // (ΣK, M) = Lᵀ
  const Tensor right_rows = compute::empty_like(h.rights[0], Shape{h.depth, n});  // (ΣK, N) = R
  int64_t row = 0;
  for (size_t i = 0; i < h.lefts.size(); ++i) {
    const int64_t k = h.lefts[i].size(1);
    compute::copy_into(transposed(h.lefts[i]), rows(left_rows, row, k));
    compute::copy_into(h.rights[i], rows(right_rows, row, k));
    row += k;
  }
  add_product_grad_now(*h.slot, h.strides, transposed(left_rows), right_rows);
}

std::vector<Held>::iterator find(const GradSlot* slot) {
  return std::find_if(held.begin(), held.end(), [slot](const Held& h) { return h.slot.get() == slot; });
}

// Adds one slot's held products and forgets them (taken out first: add may throw).
void add_and_forget(std::vector<Held>::iterator it) {
  const Held h = std::move(*it);
  held.erase(it);
  add(h);
}

}  // namespace

bool hold(const std::shared_ptr<GradSlot>& slot, const Strides& strides, const Tensor& left, const Tensor& right) {
  const int rank = left.ndim();
  if (!slot->device.is_host() || slot->dtype != DType::f32 || left.dtype() != DType::f32 ||
      right.dtype() != DType::f32 || !left.device().is_host() || !right.device().is_host() || rank < 2 || rank > 3 ||
      right.ndim() != rank || (rank == 3 && (right.size(0) != left.size(0) || !strides.empty())))
    return false;
  const int64_t k = left.size(rank - 1), items = rank == 3 ? left.size(0) : 1;
  if (k == 0 || k > kMaxInner || items * left.size(rank - 2) * right.size(rank - 1) < kMinOutput) return false;
  // One slot's products share their shapes but K; a new layout, rank, precision or a full depth starts a new sum.
  auto it = find(slot.get());
  if (it != held.end() && (it->strides != strides || it->lefts[0].ndim() != rank ||
                           it->precision != matmul_precision() || it->depth + k > kDepth)) {
    add_and_forget(it);
    it = held.end();
  }
  if (it == held.end()) it = held.insert(held.end(), Held{slot, strides, matmul_precision(), {}, {}, 0});
  // Nobody may adopt (and then add into) memory held here: the gradient the running backward consumes is
  // adopted only while no one else holds it (detail::adopt_consumed).
  detail::adopt_consumed(left.impl().storage.get());
  detail::adopt_consumed(right.impl().storage.get());
  it->lefts.push_back(left);
  it->rights.push_back(right);
  it->depth += k;
  return true;
}

void add_held(GradSlot& slot) {
  if (held.empty()) return;
  const auto it = find(&slot);
  if (it != held.end()) add_and_forget(it);
}

void add_all_held() {
  while (!held.empty()) add_and_forget(held.end() - 1);
}

void drop_all_held() { held.clear(); }

}  // namespace tg::deferred_products
