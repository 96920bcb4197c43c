#include "core/types/shape.h"

#include <fmt/format.h>

#include <cstdint>

#include "core/services/error.h"

namespace tg {

Shape::Shape(std::initializer_list<int64_t> sizes) {
  for (int64_t d : sizes) push_back(d);
}

Shape::Shape(const std::vector<int64_t>& sizes) {
  for (int64_t d : sizes) push_back(d);
}

int64_t Shape::at(int i) const { return dims_[normalize_axis(i, rank_, "Shape::at")]; }

void Shape::push_back(int64_t d) {
  if (rank_ == kMaxDims) fail("shape: at most {} dimensions are supported", kMaxDims);
  dims_[rank_++] = d;
}

void Shape::insert(int pos, int64_t d) {
  if (rank_ == kMaxDims) fail("shape: at most {} dimensions are supported", kMaxDims);
  for (int i = rank_; i > pos; --i) dims_[i] = dims_[i - 1];
  dims_[pos] = d;
  ++rank_;
}

void Shape::erase(int pos) {
  for (int i = pos; i + 1 < rank_; ++i) dims_[i] = dims_[i + 1];
  --rank_;
}

int64_t Shape::numel() const {
  // Checked: a product past int64 would wrap to a small or zero count.
  int64_t n = 1;
  bool overflow = false;
  for (int i = 0; i < rank_; ++i) {
    if (dims_[i] == 0) return 0;
    overflow = overflow || __builtin_mul_overflow(n, dims_[i], &n);
  }
  if (overflow) fail("shape {}: the number of elements overflows int64 (at most {})", str(), INT64_MAX);
  return n;
}

std::string Shape::str() const {
  if (rank_ == 1) return fmt::format("({},)", dims_[0]);
  return fmt::format("({})", fmt::join(begin(), end(), ", "));
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.rank_ != b.rank_) return false;
  for (int i = 0; i < a.rank_; ++i)
    if (a.dims_[i] != b.dims_[i]) return false;
  return true;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides = shape;
  int64_t step = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    strides[i] = step;
    // Only a shape with a 0 dimension (no elements, numel checked) can overflow here; its strides are
    // never used to reach an element, so the builtin's wrapped product (defined, unlike `*=`) will do.
    __builtin_mul_overflow(step, shape[i], &step);
  }
  return strides;
}

int normalize_axis(int axis, int rank, const char* op) {
  int resolved = axis < 0 ? axis + rank : axis;
  if (resolved < 0 || resolved >= rank)
    fail("{}: axis {} is out of range for a tensor of rank {}", op, axis, rank);
  return resolved;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int rank = std::max(a.size(), b.size());
  Shape out;
  for (int i = 0; i < rank; ++i) {
    const int ia = i - (rank - a.size()), ib = i - (rank - b.size());
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      fail("{}: shapes {} and {} do not broadcast: dimension {} is {} vs {}", op, a.str(),
           b.str(), i, da, db);
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target) {
  Strides out;
  const int lead = target.size() - shape.size();
  for (int i = 0; i < target.size(); ++i) {
    const int j = i - lead;
    out.push_back(j < 0 || shape[j] == 1 ? 0 : strides[j]);
  }
  return out;
}

}  // namespace tg
