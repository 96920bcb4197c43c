#include "ops/detail/unary.h"

#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg::detail {

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double scalar) {
  const ProfileScope profile(name);
  check_defined(x, name, "x");
  check_floating(x, name);
  Tensor y = compute::unary(op, x, scalar);
  // f' reads x (log, relu, ...), y (exp, tanh, ...) or neither (neg, the scalar ops).
  const UnaryReads reads = unary_derivative_reads(op);
  const bool needed = x.requires_grad();
  const Saved value = reads == UnaryReads::x   ? save_if(needed, "x", x)
                      : reads == UnaryReads::y ? save_if(needed, "y", y)
                                               : Saved();
  record(name, {&x}, y, {value}, [dx = slot_of(x), value, op, scalar](const Tensor& dy) {
    // The kernel takes both x and y and reads only the saved one; it is given
    // that one (or dy, of the same shape, when it reads neither) for both.
    const Tensor& read = value.defined() ? value.get() : dy;
    compute::unary_backward(op, read, read, dy, grad_buffer(*dx), scalar);
  });
  return y;
}

}  // namespace tg::detail
