#include "nn/recurrent/recurrent_network.h"

#include <string>
#include <utility>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "core/autograd/public_op.h"
#include "nn/recurrent/recurrent.h"
#include "ops/reshape.h"
#include "ops/select.h"
#include "ops/stack.h"

namespace tg::nn {

RecurrentNetwork::RecurrentNetwork(const char* model, int64_t gates, int64_t input_size, int64_t hidden_size,
                                   RecurrentOptions options, Generator& gen)
    : model_(model), input_size_(input_size), hidden_size_(hidden_size), options_(options) {
  check_parameter_dtype(options.dtype, model);
  if (input_size <= 0 || hidden_size <= 0)
    fail("{}: sizes must be positive, got input_size={} hidden_size={}", model, input_size, hidden_size);
  if (options.num_layers < 1) fail("{}: num_layers must be at least 1, got {}", model, options.num_layers);
  if (!(options.dropout >= 0 && options.dropout < 1))
    fail("{}: dropout must be in [0, 1), got {}", model, options.dropout);

  const int directions = num_directions();
  weights_.resize(static_cast<size_t>(options.num_layers) * directions);  // fixed from here on
  for (int layer = 0; layer < options.num_layers; ++layer) {
    const int64_t layer_input = layer == 0 ? input_size : hidden_size * directions;  // I_k
    for (int direction = 0; direction < directions; ++direction) {
      RecurrentWeights& w = weights_[layer * directions + direction];
      w = RecurrentWeights::make(model, gates, layer_input, hidden_size, {options.bias, options.dtype}, gen);
      const std::string suffix = "_l" + std::to_string(layer) + (direction == 1 ? "_reverse" : "");
      for (const auto& [name, parameter] : w.named(suffix)) register_parameter(name, *parameter);
    }
  }
  dropout_stream_.seed_with(gen.next_u64());  // reproducible from the construction generator
}

const RecurrentWeights& RecurrentNetwork::weights(int layer, int direction) const {
  if (layer < 0 || layer >= options_.num_layers || direction < 0 || direction >= num_directions())
    fail("{}: no weights for layer {} direction {}; the {} has {} layer(s) and {} direction(s)", model_, layer,
         direction, model_, options_.num_layers, num_directions());
  return weights_[layer * num_directions() + direction];
}

void RecurrentNetwork::quantize_for_inference() {
  std::vector<Int8Weights> quantized;
  for (const RecurrentWeights& w : weights_)
    quantized.push_back({Int8Linear::quantize(w.weight_ih, w.bias_ih), Int8Linear::quantize(w.weight_hh, w.bias_hh)});
  int8_weights_ = std::move(quantized);
}

RecurrentNetwork::CellState RecurrentNetwork::run_direction(const Tensor& input, const RecurrentWeights& w,
                                                            const Int8Weights* int8, CellState state, bool reverse,
                                                            int time_axis, const detail::Padding* padding,
                                                            std::vector<Tensor>& outputs) const {
  const int64_t steps = input.size(time_axis);
  // (.., .., I_k) -> (.., .., G·H): one product for all steps
  const Tensor gi_all = int8 != nullptr ? int8->input(input) : w.project_input(input);
  const Tensor weight_hh_t = int8 != nullptr ? Tensor() : w.weight_hh_t();  // (H, G·H), once per sequence
  outputs.assign(steps, Tensor());
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    const Tensor gi = select(gi_all, time_axis, t);  // (B, G·H), a view
    const CellState next = int8 != nullptr ? step_from_products(gi, int8->recurrent(state[0]), state)
                                           : step(gi, state, weight_hh_t, w.bias_hh);
    for (size_t k = 0; k < state.size(); ++k)
      state[k] = detail::carry_over_padding(padding, t, next[k], state[k]);  // unchanged over padding
    outputs[t] = state[0];
  }
  return state;
}

// An unbatched sequence x (T, I) with states (L·D, H), as PyTorch accepts
// (batch_first or not): run as a batch of one, then drop the batch axis.
RecurrentNetwork::Run RecurrentNetwork::run(const Tensor& x, const std::vector<InitialState>& initial,
                                            const Tensor& lengths) const {
  // Its products and gate kernels are the GRU's (LSTM's) in backward's errors, its weights named as here.
  std::vector<std::pair<std::string, Tensor>> named;
  if (grad_enabled()) {
    named = named_parameters();
    named.emplace_back("x", x);
  }
  const PublicOpScope scope(model_, named);
  if (!x.defined() || x.ndim() != 2) return run_batched(x, initial, lengths);
  if (lengths.defined())
    fail("{}: lengths are for a padded batch; the unbatched input {} (T, input_size) has none", model_,
         x.shape().str());
  std::vector<InitialState> batched = initial;
  for (InitialState& s0 : batched) {
    if (!s0.value.defined()) continue;
    if (s0.value.ndim() != 2)
      fail("{}: with an unbatched input {}, {} must be unbatched too, (num_layers·directions, H) = ({}, {}); got {}",
           model_, x.shape().str(), s0.name, options_.num_layers * num_directions(), hidden_size_,
           s0.value.shape().str());
    s0.value = unsqueeze(s0.value, 1);
  }
  const int batch_axis = options_.batch_first ? 0 : 1;
  Run result = run_batched(unsqueeze(x, batch_axis), batched, lengths);
  result.output = squeeze(result.output, batch_axis);  // (T, D·H)
  for (Tensor& s : result.final_states) s = squeeze(s, 1);  // (L·D, H)
  return result;
}

RecurrentNetwork::Run RecurrentNetwork::run_batched(const Tensor& x, const std::vector<InitialState>& initial,
                                                    const Tensor& lengths) const {
  const detail::SequenceBatch sizes =
      detail::check_sequences(model_, x, input_size_, weights_[0].weight_ih.dtype(), options_.batch_first);
  const int64_t batch = sizes.batch;
  const int directions = num_directions();
  const int64_t H = hidden_size_;
  for (const InitialState& s0 : initial)
    detail::check_initial_state(model_, s0.name, s0.value, x, options_.num_layers * directions, batch, H);
  detail::Padding padding;
  const bool padded = lengths.defined();
  if (padded) padding = detail::make_padding(model_, lengths, sizes.steps, batch, x);

  std::vector<std::vector<Tensor>> finals(initial.size());  // per state, (B, H) each in h_n's order
  auto run_layer_direction = [&](const Tensor& input, int64_t index, bool reverse, std::vector<Tensor>& outputs) {
    CellState state;  // s0[index] (B, H), or zeros
    for (const InitialState& s0 : initial)
      state.push_back(s0.value.defined() ? select(s0.value, 0, index) : zeros({batch, H}, {x.dtype(), x.device()}));
    const Int8Weights* int8 = quantized_for_inference() ? &int8_weights_[static_cast<size_t>(index)] : nullptr;
    state = run_direction(input, weights_[index], int8, std::move(state), reverse, sizes.time_axis,
                          padded ? &padding : nullptr, outputs);
    for (size_t k = 0; k < state.size(); ++k) finals[k].push_back(state[k]);
  };
  const Tensor top = detail::run_layers(x, options_.num_layers, directions, sizes, options_.dropout,
                                        is_training(), dropout_stream_.advance(), run_layer_direction);

  Run result;
  result.output = padded ? detail::zero_padded_outputs(padding, top, sizes) : top;  // 0 at padded steps
  for (const std::vector<Tensor>& state_finals : finals)
    result.final_states.push_back(stack(state_finals, 0));  // (L·D, B, H): layer0-fwd, layer0-bwd, ...
  return result;
}

}  // namespace tg::nn
