#pragma once
// GRU: a multi-layer, optionally bidirectional gated recurrent network over a
// whole (padded) batch of sequences, with PyTorch's parameter names, shapes and
// results. Each layer and direction runs the GRUCell equations (nn/recurrent/gru_cell.h,
// gates r | z | n, G = 3):
//
//   gi_t = x_t W_ihᵀ + b_ih                  all t in one matmul: (T·B, I) @ (I, 3H)
//   h_t  = gru_step(gi_t, h_{t-1})           per step only (B, H) @ (H, 3H)
//
// Parameters, all U(±1/√H), for layer k and direction suffix "" or "_reverse":
//   weight_ih_l{k} (3H, I_k), weight_hh_l{k} (3H, H), bias_ih_l{k} (3H,), bias_hh_l{k} (3H,)
// where I_0 = input_size and I_k = H (or 2H when bidirectional) for k > 0.
//
// Padded batches: with lengths given, sequence b has lengths[b] valid steps.
// At steps t >= lengths[b] its state is carried unchanged,
//   h_t = m_t ⊙ h'_t + (1 - m_t) ⊙ h_{t-1},   m_t (B, 1) = [t < lengths[b]]
// and its output is 0, as PyTorch's pack_padded_sequence + pad_packed_sequence
// give. The reverse direction runs t = T-1 .. 0, so carrying the (initial)
// state over the padding starts it at each sequence's own last token.
//
// The layers, directions, dropout and time loop are RecurrentNetwork's
// (nn/recurrent/recurrent_network.h); this file adds the cell step and the state h.
#include "core/services/generator.h"
#include "nn/recurrent/recurrent_network.h"

namespace tg::nn {

using GRUOptions = RecurrentOptions;

struct GRUOutput {
  Tensor output;  // (T, B, D·H), or (B, T, D·H) with batch_first; directions concatenated
  Tensor h_n;     // (L·D, B, H): layer0-fwd, layer0-bwd, layer1-fwd, ...
};

// One layer-direction's parameters (a GRUCell's, under GRU's names).
using GRUWeights = RecurrentWeights;  // G = 3, rows r | z | n

class GRU : public RecurrentNetwork {
 public:
  GRU(int64_t input_size, int64_t hidden_size, GRUOptions options = {}, Generator& gen = default_generator());
  // The older form, the dtype as an argument (it replaces options.dtype).
  GRU(int64_t input_size, int64_t hidden_size, GRUOptions options, DType dtype, Generator& gen = default_generator())
      : GRU(input_size, hidden_size, with_dtype(options, dtype), gen) {}

  // x (T, B, I) (or (B, T, I) with batch_first), or one unbatched sequence (T, I)
  // with h0 (L·D, H), giving output (T, D·H) and h_n (L·D, H), as PyTorch; h0 (L·D, B, H) or undefined
  // (zeros); lengths int64 (B,) with values in 1..T, or undefined (all T).
  // Const for the parameters; in training mode with dropout between layers it
  // advances the module's DropoutStream.
  GRUOutput forward(const Tensor& x, const Tensor& h0 = {}, const Tensor& lengths = {}) const;
  GRUOutput operator()(const Tensor& x, const Tensor& h0 = {}, const Tensor& lengths = {}) const {
    return forward(x, h0, lengths);
  }

  std::string type_name() const override { return "GRU"; }

 protected:
  // {h} -> {h'}: gru_step (nn/recurrent/gru_cell.h).
  CellState step(const Tensor& gi, const CellState& state, const Tensor& weight_hh_t,
                 const Tensor& bias_hh) const override;
  CellState step_from_products(const Tensor& gi, const Tensor& gh, const CellState& state) const override;
};

}  // namespace tg::nn
