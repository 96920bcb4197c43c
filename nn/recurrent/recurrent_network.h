#pragma once
// What GRU and LSTM share as modules: their options, one RecurrentWeights per
// layer and direction under PyTorch's names, and the forward pass over a
// (padded) batch of sequences: stacked layers, both directions, dropout
// between layers, and the time loop. A subclass says only what differs: its
// gate count G, its cell step and the states it carries ({h} or {h, c}).
//
// Parameters, all U(±1/√H), for layer k and direction suffix "" or "_reverse":
//   weight_ih_l{k} (G·H, I_k), weight_hh_l{k} (G·H, H), bias_ih_l{k} (G·H,), bias_hh_l{k} (G·H,)
// where I_0 = input_size and I_k = H (or 2H when bidirectional) for k > 0.
//
// Each layer and direction runs its cell over the steps:
//   gi_t = x_t W_ihᵀ + b_ih                 all t in one matmul: (T·B, I) @ (I, G·H)
//   s_t  = step(gi_t, s_{t-1})              per step only (B, H) @ (H, G·H)
//
// Padding (nn/recurrent/recurrent.h): with lengths given, every state is carried
// unchanged over the padded steps t >= lengths[b] and the output there is 0.
#include <cstdint>
#include <vector>

#include "core/services/generator.h"
#include "nn/dropout_stream.h"
#include "nn/module.h"
#include "nn/recurrent/recurrent_options.h"
#include "nn/recurrent/recurrent_weights.h"
#include "ops/int8_linear.h"

namespace tg::nn {

namespace detail {
struct Padding;  // nn/recurrent/recurrent.h
}

class RecurrentNetwork : public Module {
 public:
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const RecurrentOptions& options() const { return options_; }
  int num_directions() const { return options_.bidirectional ? 2 : 1; }
  // The parameters of one layer (0-based) and direction (0 forward, 1 reverse).
  const RecurrentWeights& weights(int layer, int direction = 0) const;

  // Inference with int8 weights, as PyTorch's quantize_dynamic does for
  // nn.GRU and nn.LSTM: quantizes, once, each layer-direction's W_ih with b_ih
  // and W_hh with b_hh per row (tg::Int8Linear); forward() then runs both
  // products with int8 weights and inputs quantized per row at run time, the
  // gate arithmetic in float32. A snapshot: quantize again after changing the
  // weights. No gradient: a forward that would record one throws. Float32
  // weights on the host.
  void quantize_for_inference();
  bool quantized_for_inference() const { return !int8_weights_.empty(); }

 protected:
  // The states a cell carries from step to step, each (B, H), h first (it is
  // the output): {h} for the GRU, {h, c} for the LSTM.
  using CellState = std::vector<Tensor>;

  // An initial state as forward() takes it: (L·D, B, H), or undefined for
  // zeros; `name` ("h0", "c0") is for errors.
  struct InitialState {
    const char* name;
    Tensor value;
  };

  // What run() returns.
  struct Run {
    Tensor output;                     // (T, B, D·H) or (B, T, D·H), 0 at padded steps
    std::vector<Tensor> final_states;  // one per state, (L·D, B, H): h_n (and c_n)
  };

  // `model` names the subclass in errors ("GRU"); G = `gates` row blocks.
  RecurrentNetwork(const char* model, int64_t gates, int64_t input_size, int64_t hidden_size,
                   RecurrentOptions options, Generator& gen);  // parameters in options.dtype

  // One step of the cell: gi (B, G·H) = x_t W_ihᵀ + b_ih, the state (B, H)
  // each, weight_hh_t = W_hhᵀ (H, G·H) made once per sequence, bias_hh (G·H,)
  // or undefined -> the next state.
  virtual CellState step(const Tensor& gi, const CellState& state, const Tensor& weight_hh_t,
                         const Tensor& bias_hh) const = 0;
  // The same from both products made elsewhere (int8): gh (B, G·H) = h W_hhᵀ + b_hh.
  virtual CellState step_from_products(const Tensor& gi, const Tensor& gh, const CellState& state) const = 0;

  // The whole forward pass: x (T, B, I) (or (B, T, I) with batch_first), one
  // initial state per carried state, lengths int64 (B,) with values in 1..T or
  // undefined (all T). Const for the parameters; in training mode with dropout
  // between layers it advances the module's DropoutStream.
  // x may also be one unbatched sequence (T, I) with unbatched states (L·D, H).
  Run run(const Tensor& x, const std::vector<InitialState>& initial, const Tensor& lengths) const;

  void reseed_own(uint64_t seed) override { dropout_stream_.seed_with(seed); }

 private:
  Run run_batched(const Tensor& x, const std::vector<InitialState>& initial, const Tensor& lengths) const;
  // One layer in one direction over all steps: input (T, B, I_k) or
  // (B, T, I_k) (time on `time_axis`), contiguous; the initial state (B, H)
  // each -> outputs[t] = h_t (B, H) for every t; returns the final state.
  // Its products in int8 once quantized for inference.
  struct Int8Weights {
    Int8Linear input, recurrent;  // W_ih with b_ih, W_hh with b_hh
  };
  CellState run_direction(const Tensor& input, const RecurrentWeights& w, const Int8Weights* int8, CellState state,
                          bool reverse, int time_axis, const detail::Padding* padding,
                          std::vector<Tensor>& outputs) const;

  const char* model_;
  int64_t input_size_, hidden_size_;
  RecurrentOptions options_;
  std::vector<RecurrentWeights> weights_;  // layer * D + direction; never resized after registration
  std::vector<Int8Weights> int8_weights_;  // the same order, once quantized for inference; else empty
  DropoutStream dropout_stream_;  // the module's own stream for inter-layer dropout
};

}  // namespace tg::nn
