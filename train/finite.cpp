#include "train/finite.h"

#include <fmt/format.h>

#include <cmath>

namespace tg::train {

std::string first_non_finite(const Tensor& t) {
  const std::vector<double> values = t.to_vector<double>();  // reads back from any device, any dtype
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) return fmt::format("element {} is {}", i, non_finite_name(values[i]));
  return "";
}

bool all_finite(const std::vector<Tensor>& tensors) {
  for (const Tensor& t : tensors)
    if (!first_non_finite(t).empty()) return false;
  return true;
}

std::string non_finite_name(double value) { return std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf"; }

}  // namespace tg::train
