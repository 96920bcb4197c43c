#pragma once
// The pieces kernels' checks are made of (core/dispatch/primitives.cpp, each
// family's <family>.cpp): each function throws a tg::Error naming the
// kernel, the operand and what was expected, or returns normally. A table
// runs a kernel's check once per call, before any body (core/dispatch/kernel_table.h);
// index and target values are checked where they are in host memory.
#include <string_view>

#include "core/types/view.h"

namespace tg::checks {

void dtype(std::string_view op, std::string_view what, const View& v, DType expected);
void shape(std::string_view op, std::string_view what, const View& v, const Shape& expected);
void rank(std::string_view op, std::string_view what, const View& v, int rank);
void contiguous(std::string_view op, std::string_view what, const View& v);
void floating(std::string_view op, const View& v);

// The values of host index views (read through their stride), checked before
// a kernel runs: every index of the 1-D int64 `index` in [0, rows); every
// target in [0, classes) or equal to ignore_index.
void indices_in_range(std::string_view op, const View& index, int64_t rows);
void targets_in_range(std::string_view op, const View& target, int64_t ignore_index, int64_t classes);

}  // namespace tg::checks
