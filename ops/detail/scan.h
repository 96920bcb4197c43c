#pragma once
// Running totals along one dim, the body of cumsum, cumprod and prod.
#include "core/tensor/tensor.h"

namespace tg::detail {

enum class ScanOp { sum, product };

// Integers (int64, bool), on the host: int64 and exact, overflow refused
// (the message starts with `name`). last_only: each run's final total, the
// dim dropped (prod).
Tensor integer_scan(const Tensor& x, int dim, ScanOp op, bool last_only, const char* name);

// Floats: log₂ n recorded shifted additions or products (y op= y shifted by
// 1, 2, 4, ... along dim, the identity 0 or 1 shifted in: Hillis and Steele's
// scan), so the gradient comes from the tape and any backend runs it.
Tensor float_scan(const Tensor& x, int dim, ScanOp op);

}  // namespace tg::detail
