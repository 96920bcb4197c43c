#pragma once
// Weight gradients of a sequence's steps summed as one product.
//
// A recurrent layer's weight receives one gradient product per step,
// dW += dYₜᵀ Xₜ, whose inner size K is the batch (64): the kernel then
// reads and writes all of dW for every 64 products of each element, and
// runs at about half its rate (bench_kernel_ab --accumulate). Held back and
// stacked along K, the steps' products are one product of K up to kDepth:
//   Σₜ Lₜ Rₜ = [L₁ … Lₙ] [R₁; …; Rₙ].
// What is held: float32 products on the host with K ≤ 128 and M·N ≥ 65536
// (add_product_grad, core/autograd/grad_buffers.h), and batches of them with
// B·M·N ≥ 65536 (add_batched_product_grad: an attention context's gradient
// for its values, K = 1 at every decoder step, read and written whole each
// time; summed, once a sequence). Backward adds a slot's
// held products before its gradient is read: at its node's turn
// (Tape::backward), and, for leaves, when the pass ends. The sum is the same
// up to float32 rounding (another order of the K terms).
#include <memory>

#include "core/tensor/grad_slot.h"
#include "core/tensor/tensor.h"

namespace tg::deferred_products {

// Holds d(slot) += left @ right (left (M, K), right (K, N), in grad_target(slot,
// strides)'s layout; or a batch of them, left (B, M, K), right (B, K, N), into
// the slot's contiguous gradient, strides empty) when it qualifies; false
// (nothing held) when not.
bool hold(const std::shared_ptr<GradSlot>& slot, const Strides& strides, const Tensor& left, const Tensor& right);
// Adds the slot's held products to its gradient, if it has any.
void add_held(GradSlot& slot);
// Every slot's held products, added.
void add_all_held();
// Forgets every held product: a backward that failed leaves its gradients incomplete anyway.
void drop_all_held();

}  // namespace tg::deferred_products
