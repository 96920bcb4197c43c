#include "core/types/dtype.h"

#include <atomic>

#include "core/services/error.h"

namespace tg {

namespace {
std::atomic<DType> default_float{DType::f32};
}

DType default_dtype() { return default_float.load(std::memory_order_relaxed); }

void set_default_dtype(DType dtype) {
  if (!is_floating(dtype))
    fail("set_default_dtype: the default must be float32 or float64, got {}", dtype_name(dtype));
  default_float.store(dtype, std::memory_order_relaxed);
}

}  // namespace tg
