#pragma once
// Scaled dot-product attention in one pass per query row, never holding the
// (B, L, S) weights (ops/scaled_dot_product_attention.h, nn::MultiheadAttention):
// q (B, L, D), k (B, S, D), v (B, S, Dv), out (B, L, Dv), lse (B, L), all of q's
// float dtype, last axes unit-strided; B counts batch × heads.
//   s_bij = scale q_bi·k_bj + bias[b or 0, i, j] + key_bias[b / heads, j]   (−∞ above i when causal)
//   p_bij = exp(s_bij − lse_bi),  lse_bi = log Σ_j exp(s_bij)
//   out_bi = Σ_j p_bij m_bij v_bj,  m_bij = dropout_scale(key, (b·L + i)·S + j) (core/dispatch/random_bits.h), 1 without dropout
// bias (1 or B, L, S) and key_bias (B / heads, S) are optional additive masks
// (−∞ = not allowed); a row with every position −∞ gives nan, as softmax does.
// Backward, given dout (B, L, Dv), out and lse, recomputes p row by row, with
// D_bi = dout_bi·out_bi:
//   dv_bj += Σ_i p_bij m_bij dout_bi
//   ds_bij = p_bij (m_bij dout_bi·v_bj − D_bi)
//   dq_bi  = scale Σ_j ds_bij k_bj        (written)
//   dk_bj += scale Σ_i ds_bij q_bi
// dq, dk, dv may be absent (data null: not wanted). The dropout draw with the
// same key equals ops/dropout.h's on the (B, L, S) weights.
#include <cstdint>

#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct DotAttentionArgs {
  View q, k, v, bias, key_bias;  // bias, key_bias: data null when absent
  View out, lse;
  double scale = 1;
  bool causal = false;
  int64_t heads = 1;               // B / heads rows of key_bias
  double dropout = 0;              // p in [0, 1)
  uint64_t dropout_key = 0;
};
struct DotAttentionBackwardArgs {
  DotAttentionArgs forward;  // its out and lse as the forward wrote them
  View dout;
  View dq, dk, dv;  // data null: not wanted
};

KernelTable<DotAttentionArgs>& dot_attention_table();
KernelTable<DotAttentionBackwardArgs>& dot_attention_backward_table();

inline void dot_attention(Backend& backend, const DotAttentionArgs& args) { dot_attention_table().run(backend, args); }
inline void dot_attention_backward(Backend& backend, const DotAttentionBackwardArgs& args) {
  dot_attention_backward_table().run(backend, args);
}

}  // namespace tg::kernels
