#include "ops/nonzero.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"

namespace tg {

// On the host: walk x in row-major order, keeping each non-zero element's coordinates.
Tensor nonzero(const Tensor& x) {
  const ProfileScope profile("nonzero");
  check_defined(x, "nonzero", "x");
  // Whether each element is non-zero: int64 read exactly, the other dtypes as double (x != 0 is kept).
  std::vector<bool> set;
  if (x.dtype() == DType::i64) {
    for (const int64_t v : x.detach().to_vector<int64_t>()) set.push_back(v != 0);
  } else {
    for (const double v : x.detach().to_vector<double>()) set.push_back(v != 0);  // NaN != 0
  }
  const int rank = x.ndim();
  std::vector<int64_t> coords;
  std::vector<int64_t> at(static_cast<size_t>(rank), 0);
  int64_t rows = 0;
  for (const bool nz : set) {
    if (nz) {
      coords.insert(coords.end(), at.begin(), at.end());
      ++rows;
    }
    for (int i = rank - 1; i >= 0; --i) {  // the next coordinate, row-major
      if (++at[static_cast<size_t>(i)] < x.size(i)) break;
      at[static_cast<size_t>(i)] = 0;
    }
  }
  return from_vector(coords, Shape{rows, rank}, {DType::i64, x.device()});
}

}  // namespace tg
