#pragma once
// fmt::print("{}", t) and std::cout << t print shape, dtype and values,
// as PyTorch does:
//   tensor([[1.0000, 2.0000], [3.0000, 4.0000]], shape=(2, 2), dtype=float32)
// Floats show `precision` decimals, in scientific notation when the nonzero
// magnitudes span more than 1000× or reach outside [1e-4, 1e8) (so 1e-7 does
// not print as 0.0000); tensors of more than `threshold` elements show
// `edge_items` at each end of every long dimension. set_print_options changes
// these for the whole program, like torch.set_printoptions.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "core/tensor/tensor.h"

namespace tg {

struct PrintOptions {
  int precision = 4;
  int64_t threshold = 1000;   // elide when numel() is above this
  int edge_items = 3;         // shown at each end of an elided dimension
  std::optional<bool> sci_mode;  // unset: chosen from the values, as above
};
void set_print_options(const PrintOptions& options);
const PrintOptions& print_options();

// Values as nested brackets, eliding as the print options say.
std::string format_values(const Tensor& t);
std::string to_string(const Tensor& t);
std::ostream& operator<<(std::ostream& out, const Tensor& t);
}  // namespace tg

template <>
struct fmt::formatter<tg::Tensor> : fmt::formatter<std::string> {
  template <typename Context>
  auto format(const tg::Tensor& t, Context& ctx) const {
    return fmt::formatter<std::string>::format(tg::to_string(t), ctx);
  }
};
