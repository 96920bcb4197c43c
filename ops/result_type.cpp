#include "ops/result_type.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "ops/detail/host_tensor.h"

namespace tg {

namespace {

int category(DType t) { return t == DType::boolean ? 0 : is_integral(t) ? 1 : 2; }

// Within a category: bits (int8 < int64; float16 = bfloat16 < float32 < float64);
// float16 and bfloat16 meet at float32.
int width(DType t) {
  switch (t) {
    case DType::i8: return 8;
    case DType::i64: return 64;
    case DType::f16: case DType::bf16: return 16;
    case DType::f32: return 32;
    case DType::f64: return 64;
    default: return 0;
  }
}

}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if (category(a) != category(b)) return category(a) > category(b) ? a : b;
  if (width(a) == width(b)) return DType::f32;  // float16 with bfloat16
  return width(a) > width(b) ? a : b;
}

DType result_type(const Tensor& a, const Tensor& b) {
  const bool a_dimensioned = a.ndim() > 0, b_dimensioned = b.ndim() > 0;
  if (a_dimensioned == b_dimensioned) return promote_types(a.dtype(), b.dtype());
  const DType dimensioned = a_dimensioned ? a.dtype() : b.dtype();
  const DType zero_dim = a_dimensioned ? b.dtype() : a.dtype();
  return category(zero_dim) > category(dimensioned) ? zero_dim : dimensioned;
}

std::pair<Tensor, Tensor> promoted(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.dtype() == b.dtype()) return {a, b};
  const DType t = result_type(a, b);
  return {a.dtype() == t ? a : a.to(t), b.dtype() == t ? b : b.to(t)};
}

Tensor scalar_operand(const Tensor& a, const Scalar& s) {
  const DType t = scalar_result_type(a.dtype(), s);
  if (t == DType::i64) return detail::host_tensor(std::vector<int64_t>{s.to_int()}, Shape{}, {DType::i64, a.device()});
  return detail::host_tensor(std::vector<double>{s.to_double()}, Shape{}, {t, a.device()});
}

}  // namespace tg
