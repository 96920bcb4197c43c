#include "core/format.h"

namespace tg {

namespace {
void append_values(const Tensor& t, int axis, int64_t linear_base, int edge, std::string& out) {
  const int64_t n = t.shape()[axis];
  const bool last_axis = axis == t.ndim() - 1;
  int64_t inner = 1;
  for (int i = axis + 1; i < t.ndim(); ++i) inner *= t.shape()[i];
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (n > 2 * edge && i == edge) {
      out += "..., ";
      i = n - edge - 1;
      continue;
    }
    if (last_axis) {
      const double v = t.at_flat(linear_base + i);
      if (t.dtype() == tg::DType::i64 || t.dtype() == tg::DType::boolean)
        out += fmt::format("{}", static_cast<int64_t>(v));
      else
        out += fmt::format("{:.4f}", v);
    } else {
      append_values(t, axis + 1, linear_base + i * inner, edge, out);
    }
    if (i + 1 < n) out += ", ";
  }
  out += ']';
}
}  // namespace

std::string format_values(const Tensor& t, int edge) {
  if (t.ndim() == 0) return fmt::format("{:.4f}", t.at_flat(0));
  std::string out;
  append_values(t, 0, 0, edge, out);
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

}  // namespace tg
