#pragma once
// The pieces RecurrentNetwork (nn/recurrent/recurrent_network.h, the base of GRU and
// LSTM) is built from: checking a (padded) batch of sequences and its initial
// states, the per-step masks built from `lengths`, carrying a state unchanged
// over padding, zeroing padded outputs, and running the stack of layers and
// directions with dropout between layers.
//
// Padded batches: sequence b has lengths[b] valid steps. At steps t >= lengths[b]
// every state s (h, and c for the LSTM) is carried unchanged,
//   s_t = m_t ⊙ s'_t + (1 - m_t) ⊙ s_{t-1},   m_t (B, 1) = [t < lengths[b]]
// and the output is 0, as PyTorch's pack_padded_sequence + pad_packed_sequence
// give. A reverse direction runs t = T-1 .. 0, so carrying the (initial) state
// over the padding starts it at each sequence's own last token.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/services/generator.h"
#include "core/tensor/tensor.h"

namespace tg::nn::detail {

// The sizes of a checked batch of sequences.
struct SequenceBatch {
  int64_t steps = 0;  // T
  int64_t batch = 0;  // B
  int time_axis = 0;  // 0 for (T, B, I), 1 for (B, T, I)
};

// Checks x (T, B, I) (or (B, T, I) with batch_first) against the model's
// input_size and parameter dtype; `model` names the caller in errors.
SequenceBatch check_sequences(const char* model, const Tensor& x, int64_t input_size, DType param_dtype,
                              bool batch_first);

// Checks an initial state (h0 or c0) of shape (L·D, B, H), when defined.
void check_initial_state(const char* model, const char* name, const Tensor& state, const Tensor& x,
                         int64_t state_count, int64_t batch, int64_t hidden);

// The padding of a batch, built once per forward.
struct Padding {
  Tensor valid;            // bool (T, B, 1): t < lengths[b]
  int64_t min_length = 0;  // every sequence is valid at steps t < min_length
};

// Checks `lengths` (int64 (B,), values in 1..T) and builds the step masks.
Padding make_padding(const char* model, const Tensor& lengths, int64_t steps, int64_t batch, const Tensor& x);

// The state after step t: s' where sequence b is valid at t, else s unchanged
// (a select by m_t (B, 1)); just s' without padding or before any sequence ends.
Tensor carry_over_padding(const Padding* padding, int64_t t, const Tensor& next, const Tensor& previous);

// output (T, B, F) or (B, T, F) with 0 at the padded steps.
Tensor zero_padded_outputs(const Padding& padding, const Tensor& output, const SequenceBatch& sizes);

// One layer-direction over all steps: input (T, B, I_k) or (B, T, I_k),
// contiguous; index = layer·D + direction; fills states[t] (B, H) for every t.
using RunDirection =
    std::function<void(const Tensor& input, int64_t index, bool reverse, std::vector<Tensor>& states)>;

// Runs the layers bottom to top, each direction over the previous layer's
// output (directions concatenated on the feature axis), with dropout on every
// layer's output but the last. Returns the top layer's output, (T, B, D·H) or
// (B, T, D·H), before padded steps are zeroed.
Tensor run_layers(const Tensor& x, int num_layers, int num_directions, const SequenceBatch& sizes,
                  double dropout_p, bool training, Generator& dropout_gen, const RunDirection& run_direction);

}  // namespace tg::nn::detail
