#include "nn/recurrent/recurrent_cell.h"

#include "core/services/error.h"

namespace tg::nn {

RecurrentCell::RecurrentCell(const char* model, int64_t gates, int64_t input_size, int64_t hidden_size,
                             LayerOptions options, Generator& gen)
    : RecurrentWeights(make(model, gates, input_size, hidden_size, options, gen)),
      model_(model),
      input_size_(input_size),
      hidden_size_(hidden_size) {
  for (const auto& [name, parameter] : named()) register_parameter(name, *parameter);
}

Tensor RecurrentCell::input_projection(const Tensor& x) const {
  check_defined(x, model_, "x");
  if (x.ndim() == 0 || x.size(-1) != input_size_)
    fail("{}: input {} must end in input_size={}", model_, x.shape().str(), input_size_);
  return project_input(x);  // (..., I) -> (..., G·H)
}

void RecurrentCell::check_input(const Tensor& x) const {
  check_defined(x, model_, "x");
  if (x.ndim() != 2 || x.size(1) != input_size_)
    fail("{}: x must be (B, I) with I = input_size = {}, got {}", model_, input_size_, x.shape().str());
}

void RecurrentCell::check_state(const Tensor& state, int64_t batch, const char* what) const {
  check_defined(state, model_, what);
  if (state.ndim() != 2 || state.size(0) != batch || state.size(1) != hidden_size_)
    fail("{}: {} must be (B, H) = ({}, {}), got {}", model_, what, batch, hidden_size_, state.shape().str());
}

}  // namespace tg::nn
