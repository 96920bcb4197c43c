#pragma once
// GRUCell: one step of a gated recurrent unit, with PyTorch's gate convention,
// parameter names and layouts (gate blocks in the order r | z | n):
//
//   r  = σ(W_ir x + b_ir + W_hr h + b_hr)           reset gate
//   z  = σ(W_iz x + b_iz + W_hz h + b_hz)           update gate
//   n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  candidate state
//   h' = (1 - z) ⊙ n + z ⊙ h
//
// x (B, I), h (B, H) -> h' (B, H). Parameters, all U(±1/√H) as in PyTorch:
//   weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,)
//
// The step is split in two so that a sequence model (GRU) can compute the
// input projection gi = x W_ihᵀ + b_ih of every time step in one large matmul
// and do only the recurrent product h W_hhᵀ inside the time loop.
#include "core/services/generator.h"
#include "nn/layer_options.h"
#include "nn/recurrent/recurrent_cell.h"

namespace tg::nn {

// h' from a precomputed input projection (the gate equations above):
//   gi (B, 3H) = x W_ihᵀ + b_ih,  h (B, H),  weight_hh_t = W_hhᵀ (H, 3H), transposed
//   once by the caller,  bias_hh (3H,) or undefined  ->  h' (B, H).
// gi and h may be strided views (a time step of a larger tensor).
Tensor gru_step(const Tensor& gi, const Tensor& h, const Tensor& weight_hh_t, const Tensor& bias_hh);

// Its parameters are the RecurrentWeights members (nn/recurrent/recurrent_weights.h, made and
// registered by RecurrentCell), G = 3:
//   weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,), rows r | z | n.
// input_projection(x): gi = x W_ihᵀ + b_ih, (..., I) -> (..., 3H), e.g. all time steps at once.
class GRUCell : public RecurrentCell {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, LayerOptions options = {}, Generator& gen = default_generator());
  // With bias, float32, and a generator of one's own.
  GRUCell(int64_t input_size, int64_t hidden_size, Generator& gen)
      : GRUCell(input_size, hidden_size, {}, gen) {}

  // x (B, I), h (B, H) -> h' (B, H)
  Tensor forward(const Tensor& x, const Tensor& h) const;
  Tensor operator()(const Tensor& x, const Tensor& h) const { return forward(x, h); }

  // h' from gi (B, 3H) = input_projection(x) and h (B, H).
  Tensor step(const Tensor& gi, const Tensor& h) const;

  std::string type_name() const override { return "GRUCell"; }
};

}  // namespace tg::nn
