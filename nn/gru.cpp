#include "nn/gru.h"

#include <string>

#include "core/creation.h"
#include "core/error.h"
#include "nn/gru_cell.h"
#include "nn/recurrent.h"
#include "ops/select.h"
#include "ops/stack.h"

namespace tg::nn {

namespace {

// Runs one layer in one direction over all steps.
//   input (T, B, I_k) or (B, T, I_k) (time on `time_axis`), contiguous; h (B, H)
//   -> states[t] (B, H) for every t; returns the final state (B, H).
Tensor run_direction(const Tensor& input, const GRUWeights& w, Tensor h, bool reverse, int time_axis,
                     const detail::Padding* padding, std::vector<Tensor>& states) {
  const int64_t steps = input.size(time_axis);
  const Tensor gi_all = w.project_input(input);  // (.., .., I_k) -> (.., .., 3H): one matmul
  const Tensor weight_hh_t = w.weight_hh_t();     // (H, 3H), once per sequence
  states.assign(steps, Tensor());
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    const Tensor gi = select(gi_all, time_axis, t);                // (B, 3H), a view
    const Tensor h_next = gru_step(gi, h, weight_hh_t, w.bias_hh);  // (B, H)
    h = detail::carry_over_padding(padding, t, h_next, h);            // h unchanged over padding
    states[t] = h;
  }
  return h;
}

}  // namespace

GRU::GRU(int64_t input_size, int64_t hidden_size, GRUOptions options, DType dtype, Generator& gen)
    : input_size_(input_size), hidden_size_(hidden_size), options_(options) {
  if (input_size <= 0 || hidden_size <= 0)
    fail("GRU: sizes must be positive, got input_size={} hidden_size={}", input_size, hidden_size);
  if (options.num_layers < 1) fail("GRU: num_layers must be at least 1, got {}", options.num_layers);
  if (!(options.dropout >= 0 && options.dropout < 1))
    fail("GRU: dropout must be in [0, 1), got {}", options.dropout);

  const int directions = num_directions();
  weights_.resize(static_cast<size_t>(options.num_layers) * directions);  // fixed from here on
  for (int layer = 0; layer < options.num_layers; ++layer) {
    const int64_t layer_input = layer == 0 ? input_size : hidden_size * directions;  // I_k
    for (int direction = 0; direction < directions; ++direction) {
      GRUWeights& w = weights_[layer * directions + direction];
      w = RecurrentWeights::make("GRU", 3, layer_input, hidden_size, {options.bias, dtype}, gen);
      const std::string suffix = "_l" + std::to_string(layer) + (direction == 1 ? "_reverse" : "");
      for (const auto& [name, parameter] : w.named(suffix)) register_parameter(name, *parameter);
    }
  }
  dropout_stream_.seed_with(gen.next_u64());  // reproducible from the construction generator
}

const GRUWeights& GRU::weights(int layer, int direction) const {
  if (layer < 0 || layer >= options_.num_layers || direction < 0 || direction >= num_directions())
    fail("GRU: no weights for layer {} direction {}; the GRU has {} layer(s) and {} direction(s)", layer,
         direction, options_.num_layers, num_directions());
  return weights_[layer * num_directions() + direction];
}

GRUOutput GRU::forward(const Tensor& x, const Tensor& h0, const Tensor& lengths) const {
  const detail::SequenceBatch sizes =
      detail::check_sequences("GRU", x, input_size_, weights_[0].weight_ih.dtype(), options_.batch_first);
  const int time_axis = sizes.time_axis;
  const int64_t batch = sizes.batch;
  const int directions = num_directions();
  const int64_t H = hidden_size_;
  detail::check_initial_state("GRU", "h0", h0, x, options_.num_layers * directions, batch, H);
  detail::Padding padding;
  const bool padded = lengths.defined();
  if (padded) padding = detail::make_padding("GRU", lengths, sizes.steps, batch, x);

  std::vector<Tensor> finals;  // (B, H) each, in h_n's order
  auto run = [&](const Tensor& input, int64_t index, bool reverse, std::vector<Tensor>& states) {
    const Tensor h = h0.defined() ? select(h0, 0, index)  // (B, H)
                                  : zeros({batch, H}, {x.dtype(), x.device()});
    finals.push_back(
        run_direction(input, weights_[index], h, reverse, time_axis, padded ? &padding : nullptr, states));
  };
  const Tensor top = detail::run_layers(x, options_.num_layers, directions, sizes, options_.dropout,
                                        is_training(), dropout_stream_.advance(), run);

  GRUOutput result;
  result.output = padded ? detail::zero_padded_outputs(padding, top, sizes) : top;  // 0 at padded steps
  result.h_n = stack(finals, 0);  // (L·D, B, H)
  return result;
}

}  // namespace tg::nn
