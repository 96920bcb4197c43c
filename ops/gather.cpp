#include "ops/gather.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/types/shape.h"
#include "ops/index_select.h"
#include "ops/reshape.h"

namespace tg {

namespace detail {

std::vector<int64_t> index_positions(const Shape& target, int dim, const Tensor& index, bool replace_dim,
                                     const char* op) {
  const std::vector<int64_t> picks = index.to_vector<int64_t>();
  const Strides strides = contiguous_strides(target);
  std::vector<int64_t> positions(picks.size());
  std::vector<int64_t> coord(static_cast<size_t>(index.ndim()), 0);
  for (size_t p = 0; p < picks.size(); ++p) {
    if (replace_dim && (picks[p] < 0 || picks[p] >= target[dim]))
      fail("{}: index value {} at position {} is out of range for dimension {} of size {} (x {})", op, picks[p], p, dim,
           target[dim], target.str());
    int64_t linear = 0;
    for (int i = 0; i < index.ndim(); ++i)
      linear += (replace_dim && i == dim ? picks[p] : coord[static_cast<size_t>(i)]) * strides[i];
    positions[p] = linear;
    for (int i = index.ndim() - 1; i >= 0; --i) {  // next coordinate of index, row-major
      if (++coord[static_cast<size_t>(i)] < index.size(i)) break;
      coord[static_cast<size_t>(i)] = 0;
    }
  }
  return positions;
}

}  // namespace detail

// Recorded through reshape and index_select on the flattened x.
Tensor gather(const Tensor& x, int dim, const Tensor& index) {
  const ProfileScope profile("gather");
  check_defined(x, "gather", "x");
  check_defined(index, "gather", "index");
  if (index.dtype() != DType::i64) fail("gather: index must be int64, got {}", dtype_name(index.dtype()));
  if (index.ndim() != x.ndim())
    fail("gather: index {} must have x's rank {} (x {})", index.shape().str(), x.ndim(), x.shape().str());
  if (x.ndim() == 0) fail("gather: x is a scalar (shape ()); it needs a dimension to gather along");
  const int d = normalize_axis(dim, x.ndim(), "gather");
  for (int i = 0; i < x.ndim(); ++i)
    if (i != d && index.size(i) > x.size(i))
      fail("gather: index {} is larger than x {} in dimension {} (only dimension {} may differ freely)",
           index.shape().str(), x.shape().str(), i, d);
  const std::vector<int64_t> positions = detail::index_positions(x.shape(), d, index, true, "gather");
  const Tensor where = from_vector(positions, Shape{static_cast<int64_t>(positions.size())}, {DType::i64, x.device()});
  return reshape(index_select(reshape(x, Shape{-1}), 0, where), index.shape());
}

}  // namespace tg
