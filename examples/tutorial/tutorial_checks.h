#pragma once
// What the tutorial's later programs and solutions check with: each claim
// printed as a line, "ok" or "FAIL", and the exit status from the failures
// (meson counts exit 1 as a failed test).
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace tutorial {

// The largest |a − b| over the elements (as float64), infinity when the sizes differ.
inline double max_abs_diff(const tg::Tensor& a, const tg::Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  if (x.size() != y.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

inline int failures = 0;

// Prints the claim, "ok" or "FAIL" in front, and counts a failure.
inline void expect(bool ok, const std::string& what) {
  fmt::print("{} {}\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

inline int exit_status() { return failures == 0 ? 0 : 1; }

}  // namespace tutorial
