#include "nn/gru.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/creation.h"
#include "core/error.h"
#include "nn/gru_cell.h"
#include "nn/init.h"
#include "ops/add.h"
#include "ops/compare.h"
#include "ops/concat.h"
#include "ops/dropout.h"
#include "ops/matmul.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/select.h"
#include "ops/stack.h"
#include "ops/transpose.h"
#include "ops/where.h"

namespace tg::nn {

namespace {

// The padding of a batch, built once per forward.
struct Padding {
  Tensor valid;             // bool (T, B, 1): t < lengths[b]
  int64_t min_length = 0;   // every sequence is valid at steps t < min_length
};

// Checks `lengths` (int64 (B,), values in 1..T) and builds the step masks.
Padding make_padding(const Tensor& lengths, int64_t steps, int64_t batch, const Tensor& x) {
  if (lengths.dtype() != DType::i64)
    fail("GRU: lengths must be int64, got {} {}", dtype_name(lengths.dtype()), lengths.shape().str());
  if (lengths.ndim() != 1 || lengths.size(0) != batch)
    fail("GRU: lengths must have shape (B,) = ({},), got {}", batch, lengths.shape().str());
  const std::vector<int64_t> values = lengths.to_vector<int64_t>();
  std::vector<double> valid(steps * batch);  // (T, B) row-major
  for (int64_t b = 0; b < batch; ++b) {
    if (values[b] < 1 || values[b] > steps)
      fail("GRU: lengths[{}] = {} is out of range; each length must be in 1..T = 1..{}", b, values[b],
           steps);
    for (int64_t t = 0; t < values[b]; ++t) valid[t * batch + b] = 1;
  }
  Padding padding;
  padding.valid = ne(from_vector(valid, Shape{steps, batch, 1}, {DType::f64, x.device()}), 0.0);
  padding.min_length = *std::min_element(values.begin(), values.end());
  return padding;
}

// Runs one layer in one direction over all steps.
//   input (T, B, I_k) or (B, T, I_k) (time on `time_axis`), contiguous; h (B, H)
//   -> states[t] (B, H) for every t; returns the final state (B, H).
Tensor run_direction(const Tensor& input, const GRUWeights& w, Tensor h, bool reverse, int time_axis,
                     const Padding* padding, std::vector<Tensor>& states) {
  const int64_t steps = input.size(time_axis);
  Tensor gi_all = matmul(input, transpose(w.weight_ih, 0, 1));  // (.., .., I_k) @ (I_k, 3H): one matmul
  if (w.bias_ih.defined()) gi_all = gi_all + w.bias_ih;           // (.., .., 3H) + (3H,)
  const Tensor weight_hh_t = transpose(w.weight_hh, 0, 1);        // (H, 3H), once per sequence
  states.assign(steps, Tensor());
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    const Tensor gi = select(gi_all, time_axis, t);                // (B, 3H), a view
    const Tensor h_next = gru_step(gi, h, weight_hh_t, w.bias_hh);  // (B, H)
    // h = m ⊙ h' + (1 - m) ⊙ h as a select by m (B, 1); skipped where no sequence has ended.
    if (padding != nullptr && t >= padding->min_length)
      h = where(detail::select_view(padding->valid, 0, t), h_next, h);  // (B, H)
    else
      h = h_next;
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
  const int64_t H = hidden_size;
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  weights_.resize(static_cast<size_t>(options.num_layers) * directions);  // fixed from here on
  for (int layer = 0; layer < options.num_layers; ++layer) {
    const int64_t layer_input = layer == 0 ? input_size : H * directions;  // I_k
    for (int direction = 0; direction < directions; ++direction) {
      GRUWeights& w = weights_[layer * directions + direction];
      const std::string suffix = "_l" + std::to_string(layer) + (direction == 1 ? "_reverse" : "");
      w.weight_ih = Tensor::empty({3 * H, layer_input}, {dtype});  // (3H, I_k)
      w.weight_hh = Tensor::empty({3 * H, H}, {dtype});            // (3H, H)
      init::uniform_(w.weight_ih, -bound, bound, gen);
      init::uniform_(w.weight_hh, -bound, bound, gen);
      register_parameter("weight_ih" + suffix, w.weight_ih);
      register_parameter("weight_hh" + suffix, w.weight_hh);
      if (options.bias) {
        w.bias_ih = Tensor::empty({3 * H}, {dtype});  // (3H,)
        w.bias_hh = Tensor::empty({3 * H}, {dtype});  // (3H,)
        init::uniform_(w.bias_ih, -bound, bound, gen);
        init::uniform_(w.bias_hh, -bound, bound, gen);
        register_parameter("bias_ih" + suffix, w.bias_ih);
        register_parameter("bias_hh" + suffix, w.bias_hh);
      }
    }
  }
  dropout_gen_.seed_with(gen.next_u64());  // reproducible from the construction generator
}

const GRUWeights& GRU::weights(int layer, int direction) const {
  if (layer < 0 || layer >= options_.num_layers || direction < 0 || direction >= num_directions())
    fail("GRU: no weights for layer {} direction {}; the GRU has {} layer(s) and {} direction(s)", layer,
         direction, options_.num_layers, num_directions());
  return weights_[layer * num_directions() + direction];
}

GRUOutput GRU::forward(const Tensor& x, const Tensor& h0, const Tensor& lengths) const {
  check_defined(x, "GRU", "x");
  const char* layout = options_.batch_first ? "(B, T, I)" : "(T, B, I)";
  if (x.ndim() != 3) fail("GRU: x must have rank 3 {}, got shape {}", layout, x.shape().str());
  check_floating(x, "GRU");
  if (x.size(2) != input_size_)
    fail("GRU: x {} must have feature size I = input_size = {}, got {}", x.shape().str(), input_size_,
         x.size(2));
  if (x.dtype() != weights_[0].weight_ih.dtype())
    fail("GRU: x is {} but the parameters are {}", dtype_name(x.dtype()),
         dtype_name(weights_[0].weight_ih.dtype()));
  const int time_axis = options_.batch_first ? 1 : 0;
  const int64_t steps = x.size(time_axis), batch = x.size(1 - time_axis);
  const int directions = num_directions();
  const int64_t H = hidden_size_;
  if (steps == 0 || batch == 0) fail("GRU: x {} has no steps or no sequences", x.shape().str());

  const int64_t state_count = options_.num_layers * directions;  // L·D
  if (h0.defined()) {
    check_same_kind(x, h0, "GRU");
    if (h0.ndim() != 3 || h0.size(0) != state_count || h0.size(1) != batch || h0.size(2) != H)
      fail("GRU: h0 must have shape (L·D, B, H) = ({}, {}, {}), got {}", state_count, batch, H,
           h0.shape().str());
  }
  Padding padding;
  const bool padded = lengths.defined();
  if (padded) padding = make_padding(lengths, steps, batch, x);

  // The layer input in the caller's layout; contiguous so its projection is one 2-D matmul.
  Tensor input = x.is_contiguous() ? x : reshape(x, x.shape());  // recorded copy
  std::vector<Tensor> finals;  // (B, H) each, in h_n's order
  std::vector<Tensor> states;
  for (int layer = 0; layer < options_.num_layers; ++layer) {
    std::vector<Tensor> outputs;  // (T, B, H) or (B, T, H), one per direction
    for (int direction = 0; direction < directions; ++direction) {
      const int64_t index = layer * directions + direction;
      const Tensor h = h0.defined() ? select(h0, 0, index)  // (B, H)
                                    : zeros({batch, H}, {x.dtype(), x.device()});
      finals.push_back(run_direction(input, weights_[index], h, direction == 1, time_axis,
                                     padded ? &padding : nullptr, states));
      outputs.push_back(stack(states, time_axis));  // (T, B, H) or (B, T, H)
    }
    input = directions == 1 ? outputs[0] : concat(outputs, 2);  // (.., .., D·H)
    if (layer + 1 < options_.num_layers)
      input = dropout(input, options_.dropout, is_training(), dropout_gen_);
  }

  GRUOutput result;
  result.output = input;
  if (padded && padding.min_length < steps) {
    // Zero the outputs of padded steps: output ⊙ m, m (T, B, 1) or (B, T, 1).
    const Tensor valid = padding.valid.to(x.dtype());
    result.output = input * (options_.batch_first ? permuted_view(valid, {1, 0, 2}) : valid);
  }
  result.h_n = stack(finals, 0);  // (L·D, B, H)
  return result;
}

}  // namespace tg::nn
