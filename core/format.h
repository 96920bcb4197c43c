#pragma once
// fmt::print("{}", t) prints shape, dtype and values, NumPy style, with
// the middle of long dimensions elided:
//   tensor([[1.0000, 2.0000], [3.0000, 4.0000]], shape=(2, 2), dtype=float32)
#include <fmt/format.h>

#include <string>

#include "core/tensor.h"

namespace tg {
// Values as nested brackets, showing at most `edge` items at each end of a dimension.
std::string format_values(const Tensor& t, int edge = 3);
std::string to_string(const Tensor& t);
}  // namespace tg

template <>
struct fmt::formatter<tg::Tensor> : fmt::formatter<std::string> {
  template <typename Context>
  auto format(const tg::Tensor& t, Context& ctx) const {
    return fmt::formatter<std::string>::format(tg::to_string(t), ctx);
  }
};
