#pragma once
// The order top-k selection ranks a row's entries in (torch.topk's): by value,
// largest first (or smallest first), NaN counting as the largest value, and
// the lower index first on ties. topk_rows_cuda.cu repeats it in
// device code.
#include <cmath>
#include <cstdint>

namespace tg {

// Whether entry (va, a) ranks before entry (vb, b).
template <typename T>
bool topk_ranks_before(T va, int64_t a, T vb, int64_t b, bool largest) {
  const bool nan_a = std::isnan(va), nan_b = std::isnan(vb);
  if (nan_a || nan_b) return nan_a != nan_b ? nan_a == largest : a < b;
  if (va != vb) return largest ? va > vb : va < vb;
  return a < b;
}

}  // namespace tg
