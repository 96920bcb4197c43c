#pragma once
// LSTM: a multi-layer, optionally bidirectional long short-term memory network
// over a whole (padded) batch of sequences, with PyTorch's parameter names,
// shapes and results. Each layer and direction runs the LSTMCell equations
// (nn/recurrent/lstm_cell.h, gates i | f | g | o, G = 4):
//
//   gi_t         = x_t W_ihᵀ + b_ih                all t in one matmul: (T·B, I) @ (I, 4H)
//   (h_t, c_t)   = lstm_step(gi_t, h_{t-1}, c_{t-1}) per step only (B, H) @ (H, 4H)
//
// Parameters, all U(±1/√H), for layer k and direction suffix "" or "_reverse":
//   weight_ih_l{k} (4H, I_k), weight_hh_l{k} (4H, H), bias_ih_l{k} (4H,), bias_hh_l{k} (4H,)
// where I_0 = input_size and I_k = H (or 2H when bidirectional) for k > 0.
//
// Padded batches work as for the GRU (nn/recurrent/gru.h): with lengths given,
// both h and c are carried unchanged over the padded steps t >= lengths[b],
// the output there is 0, and the reverse direction starts at each sequence's
// own last token, as PyTorch's pack_padded_sequence + pad_packed_sequence give.
//
// The layers, directions, dropout and time loop are RecurrentNetwork's
// (nn/recurrent/recurrent_network.h); this file adds the cell step and the states h, c.
#include "core/services/generator.h"
#include "nn/recurrent/recurrent_network.h"

namespace tg::nn {

using LSTMOptions = RecurrentOptions;

struct LSTMOutput {
  Tensor output;  // (T, B, D·H), or (B, T, D·H) with batch_first; directions concatenated
  Tensor h_n;     // (L·D, B, H): layer0-fwd, layer0-bwd, layer1-fwd, ...
  Tensor c_n;     // (L·D, B, H), the final cell states in the same order
};

// One layer-direction's parameters (an LSTMCell's, under LSTM's names).
using LSTMWeights = RecurrentWeights;  // G = 4, rows i | f | g | o

class LSTM : public RecurrentNetwork {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options = {}, Generator& gen = default_generator());
  // The older form, the dtype as an argument (it replaces options.dtype).
  LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options, DType dtype, Generator& gen = default_generator())
      : LSTM(input_size, hidden_size, with_dtype(options, dtype), gen) {}

  // x (T, B, I) (or (B, T, I) with batch_first), or one unbatched sequence (T, I)
  // with states (L·D, H), giving output (T, D·H) and (L·D, H) states, as PyTorch; h0, c0 (L·D, B, H) or
  // undefined (zeros); lengths int64 (B,) with values in 1..T, or undefined (all T).
  // Const for the parameters; in training mode with dropout between layers it
  // advances the module's DropoutStream.
  LSTMOutput forward(const Tensor& x, const Tensor& h0 = {}, const Tensor& c0 = {},
                     const Tensor& lengths = {}) const;
  LSTMOutput operator()(const Tensor& x, const Tensor& h0 = {}, const Tensor& c0 = {},
                        const Tensor& lengths = {}) const {
    return forward(x, h0, c0, lengths);
  }

  std::string type_name() const override { return "LSTM"; }

 protected:
  // {h, c} -> {h', c'}: lstm_step (nn/recurrent/lstm_cell.h).
  CellState step(const Tensor& gi, const CellState& state, const Tensor& weight_hh_t,
                 const Tensor& bias_hh) const override;
  CellState step_from_products(const Tensor& gi, const Tensor& gh, const CellState& state) const override;
};

}  // namespace tg::nn
