#pragma once
// Gradients inside backward functions: accumulating into a tensor's slot,
// its buffer for kernels that add in place, and where a kernel that computes
// a whole gradient writes it. Declared below the tape (core/autograd/tape.h includes
// this for the ops); defined above it (core/autograd/grad_buffers.cpp).
#include <memory>

#include "core/tensor/grad_slot.h"
#include "core/tensor/tensor.h"

namespace tg {

// x.grad += g, where g may have x's shape or one x broadcasts to (it is then
// summed back to x's shape). Takes ownership of g when nobody else holds it.
void accumulate_grad(GradSlot& x, Tensor g);
void accumulate_grad(const Tensor& x, Tensor g);
// x's gradient buffer, contiguous, created as zeros when missing; for
// kernels that accumulate in place (dx += ...).
Tensor grad_buffer(GradSlot& x);
Tensor grad_buffer(const Tensor& x);
// x's first gradient, for a backward that writes part of it: a new contiguous
// buffer, zeros outside [start, start + length) along `axis`, that part left
// for the caller to write (instead of zeros there, then read back by an add:
// a slice's or a select's backward). x must have no gradient yet.
Tensor grad_buffer_but_part(GradSlot& x, int axis, int64_t start, int64_t length);

// Where a kernel that computes a whole gradient (a product) writes it: into
// the slot's buffer, adding (accumulate), or, when the slot has none yet,
// into a new uninitialized one it must overwrite (no zero fill, no extra
// read). The buffer is contiguous, or, when x's `strides` are given and
// order x's dimensions otherwise in memory (a weight's transpose Wᵀ, or the
// transpose of a slice of W), dense in that order: the transpose's backward
// then hands W (or the slice) a contiguous gradient, without a transposing
// copy. Leaves' gradients stay contiguous.
struct GradTarget {
  Tensor buffer;
  bool accumulate = false;
};
GradTarget grad_target(GradSlot& x);
GradTarget grad_target(GradSlot& x, const Strides& strides);

// x's gradient += left @ right, for 2-D left (M, K) and right (K, N), written
// in the layout grad_target(x, strides) picks (as rightᵀ @ leftᵀ into a
// transposed one). A float32 product on the host with a small K against a
// large M·N (a weight's gradient from one step of a sequence: K = the batch)
// may be held and summed with x's next ones as one product
// (core/autograd/deferred_products.h); backward adds it before x's gradient
// is read. add_product_grad_now computes it at once.
void add_product_grad(const std::shared_ptr<GradSlot>& x, const Strides& strides, const Tensor& left,
                      const Tensor& right);
void add_product_grad_now(GradSlot& x, const Strides& strides, const Tensor& left, const Tensor& right);
// The same for a batch of products: x's gradient (..., M, N), contiguous, += left @ right for left (B, M, K)
// and right (B, K, N), B the product of x's batch dimensions. Held likewise when K is small against B·M·N
// (an attention context's gradient for its values at every decoder step: (S, 1) @ (1, 2H) a sentence).
void add_batched_product_grad(const std::shared_ptr<GradSlot>& x, const Tensor& left, const Tensor& right);
void add_batched_product_grad_now(GradSlot& x, const Tensor& left, const Tensor& right);

}  // namespace tg
