#pragma once
// Arithmetic on int64 tensors (lengths, counts, indices): exact integer
// results, broadcasting like the float ops, never recorded (integers have no
// gradient). Division is floor division, Python's // and torch.div(...,
// rounding_mode="floor"): PyTorch's `/` would give float, tapegrad keeps int64
// so `lengths / 2` stays a length; for true division convert with .to(DType::f32).
// Division by zero is refused. The loops run on the host: a device tensor is
// copied there and back (int64 tensors are small bookkeeping).
#include "core/backend.h"
#include "core/tensor.h"

namespace tg::detail {

bool both_int64(const Tensor& a, const Tensor& b);
// op is add, sub, mul or div.
Tensor integer_binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b);
// The scalar must be a whole number (else: convert the tensor to float first).
Tensor integer_scalar(const char* name, BinaryOp op, const Tensor& x, double s, bool scalar_first = false);

}  // namespace tg::detail
