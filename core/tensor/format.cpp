#include "core/tensor/format.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/services/error.h"

namespace tg {

namespace {
PrintOptions& options() {
  static PrintOptions current;
  return current;
}

// How one tensor's floats are written: fixed or scientific, `precision` digits.
struct FloatStyle {
  bool scientific = false;
  int precision = 4;
  std::string operator()(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return scientific ? fmt::format("{:.{}e}", v, precision) : fmt::format("{:.{}f}", v, precision);
  }
};

// PyTorch's rule: scientific when the nonzero finite magnitudes span over
// 1000× or leave [1e-4, 1e8).
FloatStyle style_for(const Tensor& t) {
  FloatStyle style;
  style.precision = options().precision;
  if (options().sci_mode) {
    style.scientific = *options().sci_mode;
    return style;
  }
  double lo = INFINITY, hi = 0;
  for (double v : t.to_vector<double>())
    if (std::isfinite(v) && v != 0) lo = std::min(lo, std::abs(v)), hi = std::max(hi, std::abs(v));
  style.scientific = hi > 0 && (hi / lo > 1000 || hi >= 1e8 || lo < 1e-4);
  return style;
}

void append_values(const Tensor& t, int axis, int64_t linear_base, int edge, const FloatStyle& style,
                   std::string& out) {
  const int64_t n = t.shape()[axis];
  const bool last_axis = axis == t.ndim() - 1;
  int64_t inner = 1;
  for (int i = axis + 1; i < t.ndim(); ++i) inner *= t.shape()[i];
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (edge > 0 && n > 2 * edge && i == edge) {
      out += "..., ";
      i = n - edge - 1;
      continue;
    }
    if (last_axis) {
      const double v = t.at_flat(linear_base + i);
      if (is_integral(t.dtype()))
        out += fmt::format("{}", static_cast<int64_t>(v));
      else
        out += style(v);
    } else {
      append_values(t, axis + 1, linear_base + i * inner, edge, style, out);
    }
    if (i + 1 < n) out += ", ";
  }
  out += ']';
}
}  // namespace

void set_print_options(const PrintOptions& o) {
  if (o.precision < 0 || o.precision > 17) fail("set_print_options: precision must be in 0..17, got {}", o.precision);
  if (o.threshold < 0) fail("set_print_options: threshold must be >= 0, got {}", o.threshold);
  if (o.edge_items < 1) fail("set_print_options: edge_items must be >= 1, got {}", o.edge_items);
  options() = o;
}

const PrintOptions& print_options() { return options(); }

std::string format_values(const Tensor& t) {
  const bool integral = is_integral(t.dtype());
  const FloatStyle style = integral ? FloatStyle{} : style_for(t);
  if (t.ndim() == 0) return integral ? fmt::format("{}", static_cast<int64_t>(t.at_flat(0))) : style(t.at_flat(0));
  const int edge = t.numel() > options().threshold ? options().edge_items : 0;  // 0: show everything
  std::string out;
  append_values(t, 0, 0, edge, style, out);
  return out;
}

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  std::string s = fmt::format("tensor({}, shape={}, dtype={}", format_values(t), t.shape().str(),
                              dtype_name(t.dtype()));
  if (!t.device().is_host()) s += fmt::format(", device={}", t.device().str());
  if (t.requires_grad()) s += ", requires_grad";
  return s + ")";
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << to_string(t); }

}  // namespace tg
