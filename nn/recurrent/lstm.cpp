#include "nn/recurrent/lstm.h"

#include <utility>

#include "nn/recurrent/lstm_cell.h"
#include "ops/add.h"

namespace tg::nn {

LSTM::LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options, Generator& gen)
    : RecurrentNetwork("LSTM", 4, input_size, hidden_size, options, gen) {}

RecurrentNetwork::CellState LSTM::step(const Tensor& gi, const CellState& state, const Tensor& weight_hh_t,
                                       const Tensor& bias_hh) const {
  const LSTMState next = lstm_step(gi, {state[0], state[1]}, weight_hh_t, bias_hh);
  return {next.h, next.c};  // (B, H) each
}

RecurrentNetwork::CellState LSTM::step_from_products(const Tensor& gi, const Tensor& gh,
                                                     const CellState& state) const {
  const LSTMState next = lstm_gates(gi + gh, state[1]);
  return {next.h, next.c};  // (B, H) each
}

LSTMOutput LSTM::forward(const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& lengths) const {
  Run result = run(x, {{"h0", h0}, {"c0", c0}}, lengths);
  return {std::move(result.output), std::move(result.final_states[0]), std::move(result.final_states[1])};
}

}  // namespace tg::nn
