#include "ops/split.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/slice.h"

namespace tg {

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int axis) {
  const ProfileScope profile("split");
  check_defined(x, "split", "x");
  const int a = normalize_axis(axis, x.ndim(), "split");
  int64_t total = 0;
  for (const int64_t s : sizes) {
    if (s < 0) fail("split: sizes must be >= 0, got {}", s);
    total += s;
  }
  if (total != x.size(a))
    fail("split: sizes add up to {}, but axis {} of x {} has length {}", total, axis, x.shape().str(), x.size(a));
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (const int64_t s : sizes) {
    pieces.push_back(slice(x, a, start, start + s));
    start += s;
  }
  return pieces;
}

std::vector<Tensor> split(const Tensor& x, int64_t size, int axis) {
  check_defined(x, "split", "x");
  if (size < 1) fail("split: the piece size must be >= 1, got {}", size);
  const int64_t length = x.size(normalize_axis(axis, x.ndim(), "split"));
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < length; start += size) sizes.push_back(std::min(size, length - start));
  return split(x, sizes, axis);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int axis) {
  check_defined(x, "chunk", "x");
  if (chunks < 1) fail("chunk: the number of chunks must be >= 1, got {}", chunks);
  const int64_t length = x.size(normalize_axis(axis, x.ndim(), "chunk"));
  return split(x, std::max<int64_t>(1, (length + chunks - 1) / chunks), axis);
}

}  // namespace tg
