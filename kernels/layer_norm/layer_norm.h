#pragma once
// Layer normalisation in one pass per row (ops/layer_norm.h): x (R, D) rows,
// weight and bias (D) or absent (data null), y (R, D), mean and rstd (R), all
// of x's float dtype, rows unit-strided:
//   μ_r = Σ_d x_rd / D,  rstd_r = 1 / √(Σ_d (x_rd − μ_r)² / D + ε)
//   x̂_rd = (x_rd − μ_r) rstd_r,  y_rd = x̂_rd w_d + b_d
// Backward, given dy (R, D) and the forward's mean and rstd, with g = dy ⊙ w:
//   dx_rd  = rstd_r (g_rd − mean_d(g_r) − x̂_rd mean_d(g_r ⊙ x̂_r))    written
//   dw_d  += Σ_r dy_rd x̂_rd,  db_d += Σ_r dy_rd                      accumulated, rows in order
// dx, dweight, dbias may be absent (data null: not wanted).
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct LayerNormArgs {
  View x, weight, bias;  // weight, bias: data null when absent
  View y, mean, rstd;
  double eps = 1e-5;
};
struct LayerNormBackwardArgs {
  View x, weight, mean, rstd, dy;
  View dx, dweight, dbias;  // data null: not wanted
};

KernelTable<LayerNormArgs>& layer_norm_table();
KernelTable<LayerNormBackwardArgs>& layer_norm_backward_table();

inline void layer_norm(Backend& backend, const LayerNormArgs& args) { layer_norm_table().run(backend, args); }
inline void layer_norm_backward(Backend& backend, const LayerNormBackwardArgs& args) {
  layer_norm_backward_table().run(backend, args);
}

}  // namespace tg::kernels
