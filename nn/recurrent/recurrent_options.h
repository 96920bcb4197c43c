#pragma once
// The options of the sequence models GRU and LSTM (nn/recurrent/gru.h, nn/recurrent/lstm.h).

#include "core/types/dtype.h"

namespace tg::nn {

struct RecurrentOptions {
  int num_layers = 1;
  bool bias = true;
  bool bidirectional = false;
  double dropout = 0;  // on each layer's output except the last, in training mode
  bool batch_first = false;
  DType dtype = default_dtype();  // of the parameters
};

// `options` with `dtype` (for the older constructors that take it apart).
inline RecurrentOptions with_dtype(RecurrentOptions options, DType dtype) {
  options.dtype = dtype;
  return options;
}

}  // namespace tg::nn
