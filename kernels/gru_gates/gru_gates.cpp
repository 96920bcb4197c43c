// The GRU step's argument checks, tables and reference bodies (gru.h): one
// (b, j) at a time, straight from the formulas. Gates r | z | n are columns
// j, H + j, 2H + j.
#include "kernels/gru_gates/gru_gates.h"

#include <cmath>
#include <initializer_list>
#include <string_view>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

// Every operand (B, 3H) or (B, H) of h's dtype with unit column stride.
void check_operands(std::string_view op, const View& h, std::initializer_list<const View*> wide,
                    std::initializer_list<const View*> narrow) {
  checks::rank(op, "h", h, 2);
  checks::floating(op, h);
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  for (const View* v : wide) checks::shape(op, "a gate operand", *v, Shape{batch, 3 * hidden});
  for (const View* v : narrow) checks::shape(op, "a state operand", *v, Shape{batch, hidden});
  for (std::initializer_list<const View*> group : {wide, narrow})
    for (const View* v : group) {
      checks::dtype(op, "operand", *v, h.dtype);
      if (v->shape[1] > 1 && v->strides[1] != 1)
        fail("{}: operands need unit column stride, got shape {} with strides {}", op, v->shape.str(),
             v->strides.str());
    }
}

void check_gates(const GruGatesArgs& a) { check_operands("gru_gates", a.h, {&a.gi, &a.gh, &a.saved}, {&a.out}); }

void check_gates_backward(const GruGatesBackwardArgs& a) {
  check_operands("gru_gates_backward", a.h, {&a.saved, &a.gh, &a.dgi, &a.dgh}, {&a.dout, &a.dh});
}

void gates_reference(Backend&, const GruGatesArgs& a) {
  const int64_t batch = a.h.shape[0], H = a.h.shape[1];
  visit_float(a.h.dtype, "gru_gates", [&]<typename T>() {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < H; ++j) {
        const T r = T(1) / (T(1) + std::exp(-(element<T>(a.gi, b, j) + element<T>(a.gh, b, j))));
        const T z = T(1) / (T(1) + std::exp(-(element<T>(a.gi, b, H + j) + element<T>(a.gh, b, H + j))));
        const T n = std::tanh(element<T>(a.gi, b, 2 * H + j) + r * element<T>(a.gh, b, 2 * H + j));
        element<T>(a.out, b, j) = n + z * (element<T>(a.h, b, j) - n);
        element<T>(a.saved, b, j) = r, element<T>(a.saved, b, H + j) = z, element<T>(a.saved, b, 2 * H + j) = n;
      }
  });
}

void gates_backward_reference(Backend&, const GruGatesBackwardArgs& a) {
  const int64_t batch = a.h.shape[0], H = a.h.shape[1];
  visit_float(a.h.dtype, "gru_gates_backward", [&]<typename T>() {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < H; ++j) {
        const T r = element<T>(a.saved, b, j), z = element<T>(a.saved, b, H + j), n = element<T>(a.saved, b, 2 * H + j);
        const T g = element<T>(a.dout, b, j);
        const T a_n = g * (T(1) - z) * (T(1) - n * n);
        const T a_z = g * (element<T>(a.h, b, j) - n) * z * (T(1) - z);
        const T a_r = a_n * element<T>(a.gh, b, 2 * H + j) * r * (T(1) - r);
        element<T>(a.dh, b, j) = g * z;
        element<T>(a.dgi, b, j) = a_r, element<T>(a.dgi, b, H + j) = a_z, element<T>(a.dgi, b, 2 * H + j) = a_n;
        element<T>(a.dgh, b, j) = a_r, element<T>(a.dgh, b, H + j) = a_z, element<T>(a.dgh, b, 2 * H + j) = a_n * r;
      }
  });
}

}  // namespace

KernelTable<GruGatesArgs>& gru_gates_table() {
  static KernelTable<GruGatesArgs> table("gru_gates", &check_gates, &gates_reference);
  return table;
}

KernelTable<GruGatesBackwardArgs>& gru_gates_backward_table() {
  static KernelTable<GruGatesBackwardArgs> table("gru_gates_backward", &check_gates_backward,
                                                 &gates_backward_reference);
  return table;
}

}  // namespace tg::kernels
