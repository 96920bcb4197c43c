#pragma once
// GRU: a multi-layer, optionally bidirectional gated recurrent network over a
// whole (padded) batch of sequences, with PyTorch's parameter names, shapes and
// results. Each layer and direction runs the GRUCell equations (nn/gru_cell.h):
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
#include <vector>

#include "core/generator.h"
#include "nn/dropout_stream.h"
#include "nn/module.h"
#include "nn/recurrent_options.h"
#include "nn/recurrent_weights.h"

namespace tg::nn {

using GRUOptions = RecurrentOptions;

struct GRUOutput {
  Tensor output;  // (T, B, D·H), or (B, T, D·H) with batch_first; directions concatenated
  Tensor h_n;     // (L·D, B, H): layer0-fwd, layer0-bwd, layer1-fwd, ...
};

// One layer-direction's parameters (a GRUCell's, under GRU's names).
using GRUWeights = RecurrentWeights;  // G = 3, rows r | z | n

class GRU : public Module {
 public:
  GRU(int64_t input_size, int64_t hidden_size, GRUOptions options = {}, DType dtype = DType::f32,
      Generator& gen = default_generator());
  // float32, with a generator of one's own.
  GRU(int64_t input_size, int64_t hidden_size, GRUOptions options, Generator& gen)
      : GRU(input_size, hidden_size, options, DType::f32, gen) {}

  // x (T, B, I) (or (B, T, I) with batch_first); h0 (L·D, B, H) or undefined
  // (zeros); lengths int64 (B,) with values in 1..T, or undefined (all T).
  // Const for the parameters; in training mode with dropout between layers it
  // advances the module's DropoutStream.
  GRUOutput forward(const Tensor& x, const Tensor& h0 = {}, const Tensor& lengths = {}) const;
  GRUOutput operator()(const Tensor& x, const Tensor& h0 = {}, const Tensor& lengths = {}) const {
    return forward(x, h0, lengths);
  }

  std::string type_name() const override { return "GRU"; }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const GRUOptions& options() const { return options_; }
  int num_directions() const { return options_.bidirectional ? 2 : 1; }
  // The parameters of one layer (0-based) and direction (0 forward, 1 reverse).
  const GRUWeights& weights(int layer, int direction = 0) const;

 protected:
  void reseed_own(uint64_t seed) override { dropout_stream_.seed_with(seed); }

 private:
  int64_t input_size_, hidden_size_;
  GRUOptions options_;
  std::vector<GRUWeights> weights_;  // layer * D + direction; never resized after registration
  DropoutStream dropout_stream_;  // the module's own stream for inter-layer dropout
};

}  // namespace tg::nn
