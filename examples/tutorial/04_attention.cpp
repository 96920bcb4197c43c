// Chapter 4 of the tutorial (docs/tutorial/04-attention.md): additive
// (Bahdanau) attention for one decoder step, built from ops, checked against
// nn::AdditiveAttention (values and gradients, float64, 1e-12); padded source
// positions must get weight exactly 0 and their keys gradient exactly 0. The
// weights are printed and drawn as an SVG heatmap (attention_weights.svg) by
// the drawing code the programs share (plot/svg.h). Exits 1 if a claim does not hold.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "io/text_file.h"
#include "plot/svg.h"  // the alignment heatmap `translate --attention-svg` draws

// [tutorial:attention]
// score_bj = vᵀ tanh(W_k h_j + b_k + W_q s_b),  α_b = softmax_j(score_b) over valid j,
// context_b = Σ_j α_bj h_j
// query s (B, Qd), keys h (B, S, Kd), mask (B, S) bool, true at valid positions;
// W_q (A, Qd), W_k (A, Kd), b_k (A,), v (1, A): the module's three Linears.
tg::nn::AttentionResult attention_from_ops(const tg::nn::AdditiveAttention& attention, const tg::Tensor& query,
                                           const tg::Tensor& keys, const tg::Tensor& mask) {
  const tg::Tensor projected_keys =  // W_k h_j + b_k: (B, S, Kd) @ (Kd, A) -> (B, S, A)
      tg::matmul(keys, tg::transpose(attention.key_proj.weight, 0, 1)) + attention.key_proj.bias;
  const tg::Tensor projected_query =  // W_q s: (B, Qd) @ (Qd, A) -> (B, A) -> (B, 1, A)
      tg::unsqueeze(tg::matmul(query, tg::transpose(attention.query_proj.weight, 0, 1)), 1);
  const tg::Tensor energy = tg::tanh(projected_keys + projected_query);  // (B, S, A), the query broadcast over S
  const tg::Tensor scores =  // vᵀ energy: (B, S, A) @ (A, 1) -> (B, S, 1) -> (B, S)
      tg::squeeze(tg::matmul(energy, tg::transpose(attention.v.weight, 0, 1)), 2);
  // Padding gets score -∞ before the softmax: e^-∞ = 0, so its weight is exactly
  // 0 and the valid positions' weights still sum to 1.
  const double minus_infinity = -std::numeric_limits<double>::infinity();
  const tg::Tensor weights = tg::softmax(tg::masked_fill(scores, tg::logical_not(mask), minus_infinity), -1);
  const tg::Tensor context = tg::squeeze(tg::matmul(tg::unsqueeze(weights, 1), keys), 1);  // (B, 1, S) @ (B, S, Kd)
  return {context, weights};
}
// [/tutorial:attention]

double max_abs_diff(const tg::Tensor& a, const tg::Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

// [tutorial:gradients]
// The gradients of L = Σ context ⊙ probe_c + Σ α ⊙ probe_w (random probes, so
// every output element matters) with respect to the query, the keys and the
// module's parameters, in that order.
std::vector<tg::Tensor> gradients(tg::nn::AdditiveAttention& attention, const tg::Tensor& query,
                                  const tg::Tensor& keys, const tg::nn::AttentionResult& result,
                                  const tg::Tensor& probe_c, const tg::Tensor& probe_w) {
  const tg::Tensor loss = tg::sum(result.context * probe_c) + tg::sum(result.weights * probe_w);
  loss.backward();
  std::vector<tg::Tensor> grads{query.grad(), keys.grad()};
  for (const tg::Tensor& p : attention.parameters()) grads.push_back(p.grad());
  query.set_grad(tg::Tensor());  // the next backward starts from zero
  keys.set_grad(tg::Tensor());
  attention.zero_grad();
  return grads;
}
// [/tutorial:gradients]

int main() {
  tg::Generator gen(4);
  const int64_t B = 3, S = 5, Kd = 4, Qd = 3, A = 6;
  const tg::TensorOptions f64_leaf{.dtype = tg::DType::f64, .requires_grad = true};

  // [tutorial:check]
  // Three source sentences of 5, 3 and 2 tokens, padded to S = 5.
  tg::nn::AdditiveAttention attention(Qd, Kd, A, tg::DType::f64, gen);
  const tg::Tensor keys = tg::randn({B, S, Kd}, f64_leaf, gen);  // the encoder's outputs h_j
  const tg::Tensor query = tg::randn({B, Qd}, f64_leaf, gen);    // the decoder's state s
  const std::vector<int64_t> lengths{5, 3, 2};
  const tg::Tensor mask = tg::sequence_mask(tg::index_tensor(lengths), S);  // (B, S), true = valid
  const tg::Tensor probe_c = tg::randn({B, Kd}, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor probe_w = tg::randn({B, S}, {.dtype = tg::DType::f64}, gen);

  const tg::nn::AttentionResult mine = attention_from_ops(attention, query, keys, mask);
  const tg::nn::AttentionResult library = attention(query, keys, mask);
  const double value_diff =
      std::max(max_abs_diff(mine.context, library.context), max_abs_diff(mine.weights, library.weights));
  const std::vector<tg::Tensor> my_grads = gradients(attention, query, keys, mine, probe_c, probe_w);
  const std::vector<tg::Tensor> library_grads = gradients(attention, query, keys, library, probe_c, probe_w);
  double grad_diff = 0;
  for (size_t i = 0; i < my_grads.size(); ++i) grad_diff = std::max(grad_diff, max_abs_diff(my_grads[i], library_grads[i]));
  fmt::print("largest difference from nn::AdditiveAttention: values {:.1e}, gradients {:.1e}\n", value_diff, grad_diff);
  // [/tutorial:check]

  // [tutorial:padding]
  // Padded positions: weight exactly 0, and no gradient reaches their keys.
  const std::vector<double> alpha = mine.weights.to_vector<double>();  // (B, S) row-major
  const std::vector<double> dkeys = my_grads[1].to_vector<double>();   // (B, S, Kd) row-major
  bool padding_ignored = true;
  fmt::print("attention weights α (B, S), one row per sentence:\n");
  for (int64_t b = 0; b < B; ++b) {
    double row_sum = 0;
    fmt::print("  {} tokens:", lengths[b]);
    for (int64_t j = 0; j < S; ++j) {
      const double a = alpha[b * S + j];
      row_sum += a;
      fmt::print(" {:6.4f}", a);
      if (j >= lengths[b]) {
        padding_ignored = padding_ignored && a == 0.0;
        for (int64_t k = 0; k < Kd; ++k) padding_ignored = padding_ignored && dkeys[(b * S + j) * Kd + k] == 0.0;
      }
    }
    fmt::print("   sum {:.15f}\n", row_sum);
    padding_ignored = padding_ignored && std::abs(row_sum - 1) < 1e-15;
  }
  fmt::print("padded positions: weight exactly 0 and key gradient exactly 0: {}\n", padding_ignored ? "yes" : "NO");
  // [/tutorial:padding]

  // [tutorial:heatmap]
  // The weights as the heatmap `translate --attention-svg` draws: one row per
  // sentence (there: per target word), one column per source position, white = 1.
  const std::vector<std::string> columns{"h1", "h2", "h3", "h4", "h5"};
  const std::vector<std::string> rows{"5 tokens", "3 tokens", "2 tokens"};
  tg::write_text_file("attention_weights.svg", tg::plot::attention_svg(columns, rows, mine.weights));
  fmt::print("heatmap written to attention_weights.svg\n");
  // [/tutorial:heatmap]

  if (value_diff > 1e-12 || grad_diff > 1e-12 || !padding_ignored) {
    fmt::print(stderr, "attention from ops differs from nn::AdditiveAttention, or padding got weight\n");
    return 1;
  }
  return 0;
}
