#include "nn/recurrent/gru.h"

#include <utility>

#include "nn/recurrent/gru_cell.h"
#include "ops/gru_gates.h"

namespace tg::nn {

GRU::GRU(int64_t input_size, int64_t hidden_size, GRUOptions options, Generator& gen)
    : RecurrentNetwork("GRU", 3, input_size, hidden_size, options, gen) {}

RecurrentNetwork::CellState GRU::step(const Tensor& gi, const CellState& state, const Tensor& weight_hh_t,
                                      const Tensor& bias_hh) const {
  return {gru_step(gi, state[0], weight_hh_t, bias_hh)};  // h' (B, H)
}

RecurrentNetwork::CellState GRU::step_from_products(const Tensor& gi, const Tensor& gh, const CellState& state) const {
  return {gru_gates(gi, gh, state[0])};  // h' (B, H)
}

GRUOutput GRU::forward(const Tensor& x, const Tensor& h0, const Tensor& lengths) const {
  Run result = run(x, {{"h0", h0}}, lengths);
  return {std::move(result.output), std::move(result.final_states[0])};
}

}  // namespace tg::nn
