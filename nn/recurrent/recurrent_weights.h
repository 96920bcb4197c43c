#pragma once
// The four parameters of one recurrent layer (one direction), with PyTorch's
// names, shapes and initialisation, shared by GRUCell and GRU (G = 3 gate
// blocks, rows r | z | n) and LSTMCell and LSTM (G = 4, rows i | f | g | o):
//
//   weight_ih (G·H, I), weight_hh (G·H, H), bias_ih (G·H,), bias_hh (G·H,),
//   all U(±1/√H), drawn in that order.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/services/generator.h"
#include "core/tensor/tensor.h"
#include "nn/input_parts.h"
#include "nn/layer_options.h"

namespace tg::nn {

struct RecurrentWeights {
  Tensor weight_ih;  // (G·H, I)
  Tensor weight_hh;  // (G·H, H)
  Tensor bias_ih;    // (G·H,), undefined without bias
  Tensor bias_hh;    // (G·H,), undefined without bias

  // New parameters for `gates` blocks of hidden_size rows; `model` names the
  // caller in the error for a size that is not positive.
  static RecurrentWeights make(const char* model, int64_t gates, int64_t input_size, int64_t hidden_size,
                               LayerOptions options, Generator& gen);

  // The defined parameters under their names plus `suffix` ("_l0", "_l1_reverse", ...),
  // in registration order, for Module::register_parameter.
  std::vector<std::pair<std::string, Tensor*>> named(const std::string& suffix = "");

  // gi = x W_ihᵀ + b_ih for an input x = [x_0; x_1; ...] of these widths,
  // projected part by part (nn/input_parts.h).
  InputParts input_parts(std::vector<int64_t> widths) const { return InputParts(weight_ih, bias_ih, std::move(widths)); }
  // gi = x W_ihᵀ + b_ih: x (..., I) -> (..., G·H), e.g. all time steps at once.
  Tensor project_input(const Tensor& x) const;
  // W_hhᵀ (H, G·H), a view: made once before a loop over time steps.
  Tensor weight_hh_t() const;
};

}  // namespace tg::nn
