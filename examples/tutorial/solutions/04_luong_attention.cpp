// Chapter 4, exercise 1: Luong's "general" attention from ops, checked against
// nn::LuongAttention(LuongScore::general) to 1e-12 in float64 (weights and
// context). The score is a bilinear form instead of a small network:
//   score_bj = s_bᵀ W_a h_j,   W_a (Qd, Kd): the module's proj, no bias
// Exits 1 if a difference exceeds 1e-12.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

tg::nn::AttentionResult luong_from_ops(const tg::nn::LuongAttention& attention, const tg::Tensor& query,
                                       const tg::Tensor& keys, const tg::Tensor& mask) {
  const tg::Tensor projected = tg::matmul(keys, tg::transpose(attention.proj->weight, 0, 1));  // W_a h_j: (B, S, Qd)
  const tg::Tensor scores =  // (B, 1, Qd) @ (B, Qd, S) -> (B, 1, S) -> (B, S)
      tg::squeeze(tg::matmul(tg::unsqueeze(query, 1), tg::transpose(projected, 1, 2)), 1);
  const tg::Tensor weights =
      tg::softmax(tg::masked_fill(scores, tg::logical_not(mask), -std::numeric_limits<double>::infinity()), -1);
  const tg::Tensor context = tg::squeeze(tg::matmul(tg::unsqueeze(weights, 1), keys), 1);  // (B, Kd)
  return {context, weights};
}

double max_abs_diff(const tg::Tensor& a, const tg::Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

int main() {
  tg::Generator gen(41);
  const int64_t B = 3, S = 5, Kd = 4, Qd = 3;
  const tg::TensorOptions f64{.dtype = tg::DType::f64};
  const tg::nn::LuongAttention attention(Qd, Kd, tg::nn::LuongScore::general, tg::DType::f64, gen);
  const tg::Tensor keys = tg::randn({B, S, Kd}, f64, gen), query = tg::randn({B, Qd}, f64, gen);
  const tg::Tensor mask = tg::sequence_mask(tg::index_tensor({5, 3, 2}), S);
  const tg::nn::AttentionResult mine = luong_from_ops(attention, query, keys, mask);
  const tg::nn::AttentionResult library = attention(query, keys, mask);
  const double diff = std::max(max_abs_diff(mine.weights, library.weights), max_abs_diff(mine.context, library.context));
  fmt::print("Luong general attention from ops: largest difference from nn::LuongAttention {:.1e}\n", diff);
  return diff <= 1e-12 ? 0 : 1;
}
