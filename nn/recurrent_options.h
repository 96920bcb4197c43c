#pragma once
// The options of the sequence models GRU and LSTM (nn/gru.h, nn/lstm.h).

namespace tg::nn {

struct RecurrentOptions {
  int num_layers = 1;
  bool bias = true;
  bool bidirectional = false;
  double dropout = 0;  // on each layer's output except the last, in training mode
  bool batch_first = false;
};

}  // namespace tg::nn
