#pragma once
// LSTMCell: one step of a long short-term memory unit, with PyTorch's gate
// convention, parameter names and layouts (gate blocks in the order i | f | g | o):
//
//   i  = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
//   f  = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
//   g  = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate cell
//   o  = σ(W_io x + b_io + W_ho h + b_ho)      output gate
//   c' = f ⊙ c + i ⊙ g
//   h' = o ⊙ tanh(c')
//
// x (B, I), h (B, H), c (B, H) -> h' (B, H), c' (B, H). Parameters, all U(±1/√H) as in PyTorch:
//   weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,)
//
// As for the GRU (nn/recurrent/gru_cell.h), the step is split in two so that a sequence
// model (LSTM) computes the input projection gi = x W_ihᵀ + b_ih of every time
// step in one large matmul and only h W_hhᵀ inside the time loop. The gate
// arithmetic is composed from ops (slice, sigmoid, tanh, mul, add); there is
// no fused kernel.
#include "core/services/generator.h"
#include "nn/layer_options.h"
#include "nn/recurrent/recurrent_cell.h"

namespace tg::nn {

// The two states an LSTM carries from step to step.
struct LSTMState {
  Tensor h;  // (B, H) hidden state, the output
  Tensor c;  // (B, H) cell state
};

// (h', c') from a precomputed input projection (the gate equations above):
//   gi (B, 4H) = x W_ihᵀ + b_ih,  state.h, state.c (B, H),  weight_hh_t = W_hhᵀ (H, 4H),
//   transposed once by the caller,  bias_hh (4H,) or undefined.
// gi and the states may be strided views (a time step of a larger tensor).
LSTMState lstm_step(const Tensor& gi, const LSTMState& state, const Tensor& weight_hh_t, const Tensor& bias_hh);

// The gate arithmetic alone, from gates (B, 4H) = gi + h W_hhᵀ + b_hh (i | f | g | o)
// and c (B, H): (h', c'). lstm_step ends with it; a caller with its own
// recurrent product (int8 decoding) starts here.
LSTMState lstm_gates(const Tensor& gates, const Tensor& c);

// Its parameters are the RecurrentWeights members (nn/recurrent/recurrent_weights.h, made and
// registered by RecurrentCell), G = 4:
//   weight_ih (4H, I), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,), rows i | f | g | o.
// input_projection(x): gi = x W_ihᵀ + b_ih, (..., I) -> (..., 4H), e.g. all time steps at once.
class LSTMCell : public RecurrentCell {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, LayerOptions options = {}, Generator& gen = default_generator());
  // With bias, float32, and a generator of one's own.
  LSTMCell(int64_t input_size, int64_t hidden_size, Generator& gen)
      : LSTMCell(input_size, hidden_size, {}, gen) {}

  // x (B, I), state h, c (B, H) -> (h', c') (B, H) each. PyTorch: cell(x, (h, c)).
  LSTMState forward(const Tensor& x, const LSTMState& state) const;
  LSTMState operator()(const Tensor& x, const LSTMState& state) const { return forward(x, state); }

  // (h', c') from gi (B, 4H) = input_projection(x) and the state (B, H) each.
  LSTMState step(const Tensor& gi, const LSTMState& state) const;

  std::string type_name() const override { return "LSTMCell"; }
};

}  // namespace tg::nn
