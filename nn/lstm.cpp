#include "nn/lstm.h"

#include <string>

#include "core/creation.h"
#include "core/error.h"
#include "nn/lstm_cell.h"
#include "nn/recurrent.h"
#include "ops/select.h"
#include "ops/stack.h"

namespace tg::nn {

namespace {

// Runs one layer in one direction over all steps.
//   input (T, B, I_k) or (B, T, I_k) (time on `time_axis`), contiguous; state h, c (B, H)
//   -> states[t] = h_t (B, H) for every t; returns the final (h, c).
LSTMState run_direction(const Tensor& input, const LSTMWeights& w, LSTMState state, bool reverse, int time_axis,
                        const detail::Padding* padding, std::vector<Tensor>& states) {
  const int64_t steps = input.size(time_axis);
  const Tensor gi_all = w.project_input(input);  // (.., .., I_k) -> (.., .., 4H): one matmul
  const Tensor weight_hh_t = w.weight_hh_t();     // (H, 4H), once per sequence
  states.assign(steps, Tensor());
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    const Tensor gi = select(gi_all, time_axis, t);                          // (B, 4H), a view
    const LSTMState next = lstm_step(gi, state, weight_hh_t, w.bias_hh);     // (B, H) each
    state.h = detail::carry_over_padding(padding, t, next.h, state.h);  // h and c unchanged over padding
    state.c = detail::carry_over_padding(padding, t, next.c, state.c);
    states[t] = state.h;
  }
  return state;
}

}  // namespace

LSTM::LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options, DType dtype, Generator& gen)
    : input_size_(input_size), hidden_size_(hidden_size), options_(options) {
  if (input_size <= 0 || hidden_size <= 0)
    fail("LSTM: sizes must be positive, got input_size={} hidden_size={}", input_size, hidden_size);
  if (options.num_layers < 1) fail("LSTM: num_layers must be at least 1, got {}", options.num_layers);
  if (!(options.dropout >= 0 && options.dropout < 1))
    fail("LSTM: dropout must be in [0, 1), got {}", options.dropout);

  const int directions = num_directions();
  weights_.resize(static_cast<size_t>(options.num_layers) * directions);  // fixed from here on
  for (int layer = 0; layer < options.num_layers; ++layer) {
    const int64_t layer_input = layer == 0 ? input_size : hidden_size * directions;  // I_k
    for (int direction = 0; direction < directions; ++direction) {
      LSTMWeights& w = weights_[layer * directions + direction];
      w = RecurrentWeights::make("LSTM", 4, layer_input, hidden_size, {options.bias, dtype}, gen);
      const std::string suffix = "_l" + std::to_string(layer) + (direction == 1 ? "_reverse" : "");
      for (const auto& [name, parameter] : w.named(suffix)) register_parameter(name, *parameter);
    }
  }
  dropout_stream_.seed_with(gen.next_u64());  // reproducible from the construction generator
}

const LSTMWeights& LSTM::weights(int layer, int direction) const {
  if (layer < 0 || layer >= options_.num_layers || direction < 0 || direction >= num_directions())
    fail("LSTM: no weights for layer {} direction {}; the LSTM has {} layer(s) and {} direction(s)", layer,
         direction, options_.num_layers, num_directions());
  return weights_[layer * num_directions() + direction];
}

LSTMOutput LSTM::forward(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& lengths) const {
  const detail::SequenceBatch sizes =
      detail::check_sequences("LSTM", x, input_size_, weights_[0].weight_ih.dtype(), options_.batch_first);
  const int64_t batch = sizes.batch;
  const int directions = num_directions();
  const int64_t H = hidden_size_;
  detail::check_initial_state("LSTM", "h0", h0, x, options_.num_layers * directions, batch, H);
  detail::check_initial_state("LSTM", "c0", c0, x, options_.num_layers * directions, batch, H);
  detail::Padding padding;
  const bool padded = lengths.defined();
  if (padded) padding = detail::make_padding("LSTM", lengths, sizes.steps, batch, x);

  auto initial = [&](const Tensor& s0, int64_t index) {
    return s0.defined() ? select(s0, 0, index) : zeros({batch, H}, {x.dtype(), x.device()});  // (B, H)
  };
  std::vector<Tensor> final_h, final_c;  // (B, H) each, in h_n's order
  auto run = [&](const Tensor& input, int64_t index, bool reverse, std::vector<Tensor>& states) {
    const LSTMState last = run_direction(input, weights_[index], {initial(h0, index), initial(c0, index)}, reverse,
                                         sizes.time_axis, padded ? &padding : nullptr, states);
    final_h.push_back(last.h);
    final_c.push_back(last.c);
  };
  const Tensor top = detail::run_layers(x, options_.num_layers, directions, sizes, options_.dropout,
                                        is_training(), dropout_stream_.advance(), run);

  LSTMOutput result;
  result.output = padded ? detail::zero_padded_outputs(padding, top, sizes) : top;  // 0 at padded steps
  result.h_n = stack(final_h, 0);  // (L·D, B, H)
  result.c_n = stack(final_c, 0);  // (L·D, B, H)
  return result;
}

}  // namespace tg::nn
