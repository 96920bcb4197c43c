#pragma once
// Shape: the sizes of a tensor's dimensions, held inline (no heap) because
// every op builds several. Also used for strides, counted in elements.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace tg {

constexpr int kMaxDims = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> sizes);
  explicit Shape(const std::vector<int64_t>& sizes);

  int size() const { return rank_; }
  bool empty() const { return rank_ == 0; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  // Python-style index: -1 is the last dimension.
  int64_t at(int i) const;
  int64_t back() const { return dims_[rank_ - 1]; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  int64_t* begin() { return dims_.data(); }
  int64_t* end() { return dims_.data() + rank_; }

  void push_back(int64_t d);
  void insert(int pos, int64_t d);
  void erase(int pos);
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  // Product of all sizes; 1 for a scalar (rank 0).
  int64_t numel() const;
  // "(2, 3, 4)"
  std::string str() const;

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  std::array<int64_t, kMaxDims> dims_{};
  int rank_ = 0;
};

using Strides = Shape;

// Row-major strides for a shape: the last dimension has stride 1.
Strides contiguous_strides(const Shape& shape);

// Resolves a possibly negative axis against a rank; throws naming `op`.
int normalize_axis(int axis, int rank, const char* op);

// Shape both operands broadcast to (NumPy rules), or tg::Error naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of `shape`/`strides` as if it had `target` shape:
// leading new dimensions and size-1 dimensions get stride 0.
Strides broadcast_strides(const Shape& shape, const Strides& strides, const Shape& target);

}  // namespace tg
