#include "ops/index_add.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/scatter_add.h"

namespace tg {

// Composed: scatter_add(x, dim, index broadcast to source's shape along dim, alpha · source),
// whose backward gives dx and dsource.
Tensor index_add(const Tensor& x, int dim, const Tensor& index, const Tensor& source, double alpha) {
  const ProfileScope profile("index_add");
  check_defined(x, "index_add", "x");
  check_defined(index, "index_add", "index");
  check_defined(source, "index_add", "source");
  if (x.ndim() == 0) {  // as PyTorch: a zero-dim x is a one-element vector along dim 0 (or -1)
    if (dim != 0 && dim != -1) fail("index_add: dim {} is out of range for a zero-dim x (expected -1 or 0)", dim);
    if (source.ndim() > 1 || source.numel() != index.numel())
      fail("index_add: source {} must be zero-dim or hold index's {} entries for a zero-dim x", source.shape().str(),
           index.numel());
    return reshape(index_add(reshape(x, Shape{1}), 0, reshape(index, Shape{index.numel()}),
                             reshape(source, Shape{source.numel()}), alpha),
                   Shape{});
  }
  const int d = normalize_axis(dim, x.ndim(), "index_add");
  if (index.dtype() != DType::i64 || index.ndim() > 1)
    fail("index_add: index must be a 1-D int64 tensor, got {} {}", dtype_name(index.dtype()), index.shape().str());
  if (source.dtype() != x.dtype())
    fail("index_add: source ({}) must have x's dtype ({})", dtype_name(source.dtype()), dtype_name(x.dtype()));
  check_floating(x, "index_add");
  const int64_t k = index.numel();
  Shape expected = x.shape();
  expected[d] = k;
  if (source.ndim() == 0 && k == 1 && x.ndim() == 1) {  // PyTorch takes a zero-dim source for one index
    return index_add(x, d, reshape(index, Shape{1}), reshape(source, Shape{1}), alpha);
  }
  if (source.shape() != expected)
    fail("index_add: source {} must have x's shape {} with dimension {} of index's length {}, that is {}",
         source.shape().str(), x.shape().str(), d, k, expected.str());
  const std::vector<int64_t> picks = index.to_vector<int64_t>();
  for (size_t j = 0; j < picks.size(); ++j)
    if (picks[j] < 0 || picks[j] >= x.size(d))
      fail("index_add: index[{}] = {} is out of range for dimension {} of x {} (size {})", j, picks[j], d,
           x.shape().str(), x.size(d));
  // index[p's coordinate along d] at every position p of source, row-major.
  int64_t inner = 1;
  for (int i = d + 1; i < x.ndim(); ++i) inner *= x.size(i);
  std::vector<int64_t> spread(static_cast<size_t>(source.numel()));
  for (size_t p = 0; p < spread.size(); ++p)
    spread[p] = picks[static_cast<size_t>((static_cast<int64_t>(p) / inner) % k)];
  const Tensor where = reshape(from_vector(spread, Shape{source.numel()}, {DType::i64, x.device()}), source.shape());
  return scatter_add(x, d, where, alpha == 1 ? source : source * alpha);
}

}  // namespace tg
