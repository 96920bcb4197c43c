#pragma once
// The fused GRU step (ops/gru_gates.h), row b of B, column j of H; gi, gh
// (B, 3H) with gates r | z | n, h and out (B, H), every operand of h's float
// dtype with unit column stride (rows may be strided):
//   r = σ(gi_r + gh_r)   z = σ(gi_z + gh_z)   n = tanh(gi_n + r ⊙ gh_n)
//   out = n + z ⊙ (h − n)                      saved (B, 3H) = [r | z | n]
// Backward, given dout (B, H), writes (=, no accumulation):
//   dh = dout ⊙ z,  a_n = dout (1 − z)(1 − n²),  a_z = dout (h − n) z(1 − z),
//   a_r = a_n gh_n r(1 − r);   dgi = [a_r | a_z | a_n],  dgh = [a_r | a_z | a_n ⊙ r]
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct GruGatesArgs {
  View gi, gh, h, out, saved;
};
struct GruGatesBackwardArgs {
  View saved, gh, h, dout, dgi, dgh, dh;
};

KernelTable<GruGatesArgs>& gru_gates_table();
KernelTable<GruGatesBackwardArgs>& gru_gates_backward_table();

inline void gru_gates(Backend& backend, const GruGatesArgs& args) { gru_gates_table().run(backend, args); }
inline void gru_gates_backward(Backend& backend, const GruGatesBackwardArgs& args) {
  gru_gates_backward_table().run(backend, args);
}

}  // namespace tg::kernels
