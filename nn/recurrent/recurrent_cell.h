#pragma once
// What GRUCell and LSTMCell share: a Module holding one RecurrentWeights
// (weight_ih (G·H, I), weight_hh (G·H, H), bias_ih, bias_hh (G·H,), PyTorch's
// names and initialisation), the input projection of any number of steps at
// once, and the checks of an input and a state. A subclass adds its step.
#include <cstdint>

#include "core/services/generator.h"
#include "nn/layer_options.h"
#include "nn/module.h"
#include "nn/recurrent/recurrent_weights.h"

namespace tg::nn {

class RecurrentCell : public Module, public RecurrentWeights {
 public:
  // gi = x W_ihᵀ + b_ih;  x (..., I) -> (..., G·H), e.g. all time steps (T, B, I) at once.
  Tensor input_projection(const Tensor& x) const;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }

 protected:
  // `model` names the subclass in errors ("GRUCell"); G = `gates` row blocks.
  RecurrentCell(const char* model, int64_t gates, int64_t input_size, int64_t hidden_size, LayerOptions options,
                Generator& gen);

  // x must be (B, I) with I = input_size.
  void check_input(const Tensor& x) const;
  // A state (h or c) must be (B, H) = (batch, hidden_size); `what` names it.
  void check_state(const Tensor& state, int64_t batch, const char* what) const;

 private:
  const char* model_;
  int64_t input_size_, hidden_size_;
};

}  // namespace tg::nn
