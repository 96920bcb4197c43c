#pragma once
// A (height, width) pair of sizes for the 2-D ops (conv2d, the pools), as
// PyTorch's int-or-tuple arguments: a single number stands for both.
//   conv2d(x, w, {}, 2, 1)            stride (2, 2), padding (1, 1)
//   conv2d(x, w, {}, {2, 1}, {0, 1})  stride (2, 1), padding (0, 1)
#include <cstdint>
#include <string>

namespace tg {

struct Size2 {
  int64_t h = 0, w = 0;
  Size2(int64_t both) : h(both), w(both) {}  // NOLINT: implicit, as PyTorch's int for a pair
  Size2(int64_t height, int64_t width) : h(height), w(width) {}
  bool operator==(const Size2&) const = default;
  std::string str() const {
    std::string s(1, '(');
    s.append(std::to_string(h)).append(", ").append(std::to_string(w)).push_back(')');
    return s;
  }
};

}  // namespace tg
