#include "nn/recurrent/recurrent.h"

#include <algorithm>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "ops/compare.h"
#include "ops/concat.h"
#include "ops/dropout.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/select.h"
#include "ops/stack.h"
#include "ops/where.h"

namespace tg::nn::detail {

SequenceBatch check_sequences(const char* model, const Tensor& x, int64_t input_size, DType param_dtype,
                              bool batch_first) {
  check_defined(x, model, "x");
  const char* layout = batch_first ? "(B, T, I)" : "(T, B, I)";
  if (x.ndim() != 3)
    fail("{}: x must have rank 3 {} (or 2, one unbatched sequence (T, I)), got shape {}", model, layout,
         x.shape().str());
  check_floating(x, model);
  if (x.size(2) != input_size)
    fail("{}: x {} must have feature size I = input_size = {}, got {}", model, x.shape().str(), input_size,
         x.size(2));
  if (x.dtype() != param_dtype)
    fail("{}: x is {} but the parameters are {}", model, dtype_name(x.dtype()), dtype_name(param_dtype));
  SequenceBatch sizes;
  sizes.time_axis = batch_first ? 1 : 0;
  sizes.steps = x.size(sizes.time_axis);
  sizes.batch = x.size(1 - sizes.time_axis);
  if (sizes.steps == 0 || sizes.batch == 0) fail("{}: x {} has no steps or no sequences", model, x.shape().str());
  return sizes;
}

void check_initial_state(const char* model, const char* name, const Tensor& state, const Tensor& x,
                         int64_t state_count, int64_t batch, int64_t hidden) {
  if (!state.defined()) return;
  check_same_kind(x, state, model);
  if (state.ndim() != 3 || state.size(0) != state_count || state.size(1) != batch || state.size(2) != hidden)
    fail("{}: {} must have shape (L·D, B, H) = ({}, {}, {}), got {}", model, name, state_count, batch, hidden,
         state.shape().str());
}

Padding make_padding(const char* model, const Tensor& lengths, int64_t steps, int64_t batch, const Tensor& x) {
  if (lengths.dtype() != DType::i64)
    fail("{}: lengths must be int64, got {} {}", model, dtype_name(lengths.dtype()), lengths.shape().str());
  if (lengths.ndim() != 1 || lengths.size(0) != batch)
    fail("{}: lengths must have shape (B,) = ({},), got {}", model, batch, lengths.shape().str());
  const std::vector<int64_t> values = lengths.to_vector<int64_t>();
  std::vector<double> valid(steps * batch);  // (T, B) row-major
  for (int64_t b = 0; b < batch; ++b) {
    if (values[b] < 1 || values[b] > steps)
      fail("{}: lengths[{}] = {} is out of range; each length must be in 1..T = 1..{}", model, b, values[b],
           steps);
    for (int64_t t = 0; t < values[b]; ++t) valid[t * batch + b] = 1;
  }
  Padding padding;
  padding.valid = ne(from_vector(valid, Shape{steps, batch, 1}, {DType::f64, x.device()}), 0.0);
  padding.min_length = *std::min_element(values.begin(), values.end());
  return padding;
}

Tensor carry_over_padding(const Padding* padding, int64_t t, const Tensor& next, const Tensor& previous) {
  if (padding == nullptr || t < padding->min_length) return next;  // no sequence has ended yet
  return where(tg::detail::select_view(padding->valid, 0, t), next, previous);  // (B, H)
}

Tensor zero_padded_outputs(const Padding& padding, const Tensor& output, const SequenceBatch& sizes) {
  if (padding.min_length >= sizes.steps) return output;  // nothing padded
  // output ⊙ m, m (T, B, 1) or (B, T, 1).
  const Tensor valid = padding.valid.to(output.dtype());
  return output * (sizes.time_axis == 1 ? permuted_view(valid, {1, 0, 2}) : valid);
}

Tensor run_layers(const Tensor& x, int num_layers, int num_directions, const SequenceBatch& sizes,
                  double dropout_p, bool training, Generator& dropout_gen, const RunDirection& run_direction) {
  // The layer input in the caller's layout; contiguous so its projection is one 2-D matmul.
  Tensor input = x.is_contiguous() ? x : reshape(x, x.shape());  // recorded copy
  std::vector<Tensor> states;
  for (int layer = 0; layer < num_layers; ++layer) {
    std::vector<Tensor> outputs;  // (T, B, H) or (B, T, H), one per direction
    for (int direction = 0; direction < num_directions; ++direction) {
      run_direction(input, static_cast<int64_t>(layer) * num_directions + direction, direction == 1, states);
      outputs.push_back(stack(states, sizes.time_axis));  // (T, B, H) or (B, T, H)
    }
    input = num_directions == 1 ? outputs[0] : concat(outputs, 2);  // (.., .., D·H)
    if (layer + 1 < num_layers) input = dropout(input, dropout_p, training, dropout_gen);
  }
  return input;
}

}  // namespace tg::nn::detail
