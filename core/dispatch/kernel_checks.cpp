#include "core/dispatch/kernel_checks.h"


#include "core/services/error.h"

namespace tg::checks {

void dtype(std::string_view op, std::string_view what, const View& v, DType expected) {
  if (v.dtype != expected)
    fail("{}: {} must be {}, got {}", op, what, dtype_name(expected), dtype_name(v.dtype));
}

void shape(std::string_view op, std::string_view what, const View& v, const Shape& expected) {
  if (!(v.shape == expected)) fail("{}: {} has shape {}, expected {}", op, what, v.shape.str(), expected.str());
}

void rank(std::string_view op, std::string_view what, const View& v, int expected) {
  if (v.shape.size() != expected)
    fail("{}: {} must have rank {}, got shape {}", op, what, expected, v.shape.str());
}

void contiguous(std::string_view op, std::string_view what, const View& v) {
  if (!v.is_contiguous())
    fail("{}: {} must be contiguous, got shape {} with strides {}", op, what, v.shape.str(), v.strides.str());
}

void floating(std::string_view op, const View& v) {
  if (is_half(v.dtype))
    fail("{}: {} tensors are for storage and matrix products; this op computes in float32 or float64: convert "
         "with .to(DType::f32) first", op, dtype_name(v.dtype));
  if (!is_floating(v.dtype)) fail("{}: expected float32 or float64, got {}", op, dtype_name(v.dtype));
}

namespace {
int64_t index_value(const View& index, int64_t i) { return index.as<const int64_t>()[i * index.strides[0]]; }
}  // namespace

void indices_in_range(std::string_view op, const View& index, int64_t rows) {
  for (int64_t i = 0; i < index.numel(); ++i) {
    const int64_t k = index_value(index, i);
    if (k < 0 || k >= rows) fail("{}: index {} at row {} is out of range for a table of {} rows", op, k, i, rows);
  }
}

void targets_in_range(std::string_view op, const View& target, int64_t ignore_index, int64_t classes) {
  for (int64_t i = 0; i < target.numel(); ++i) {
    const int64_t t = index_value(target, i);
    if (t != ignore_index && (t < 0 || t >= classes))
      fail("{}: target {} at row {} is out of range for {} classes", op, t, i, classes);
  }
}

}  // namespace tg::checks
