// Chapter 8, exercise: pre-norm against post-norm. The pre-norm layer
// (GPT-2's arrangement, norm_first in PyTorch) normalises each sublayer's
// input instead of the sum:
//   post-norm:  x = norm1(x + sa(x));    x = norm2(x + ff(x))
//   pre-norm:   x = x + sa(norm1(x));    x = x + ff(norm2(x))
// written from the layer's parts and checked against
// nn::TransformerEncoderLayer(norm_first = true) (float64, 1e-12). Then a
// stack of 12 layers of each kind: post-norm's output has variance 1 at every
// depth (a norm is its last step), pre-norm's residual stream grows, because
// each layer adds to it and nothing rescales it — and the gradient reaching
// the input stays larger through pre-norm's untouched residual path. Exits 1
// if a claim does not hold.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../tutorial_checks.h"

using tutorial::expect;
using tutorial::max_abs_diff;

namespace {

using tg::Tensor;

Tensor self_attention(const tg::nn::TransformerEncoderLayer& layer, const Tensor& x) {
  return layer.self_attn(x, x, x, {.need_weights = false}).output;
}

Tensor pre_norm_layer(const tg::nn::TransformerEncoderLayer& layer, const Tensor& x) {
  const Tensor h = x + self_attention(layer, layer.norm1(x));
  return h + layer.linear2(tg::relu(layer.linear1(layer.norm2(h))));
}

// The standard deviation of every element of x.
double spread(const Tensor& x) { return std::sqrt(tg::var(x).item()); }

}  // namespace

int main() {
  tg::Generator gen(9);
  const int64_t N = 2, L = 6, E = 16;
  const tg::nn::TransformerLayerOptions options{.dim_feedforward = 32, .dropout = 0.0, .batch_first = true,
                                                .dtype = tg::DType::f64};
  tg::nn::TransformerEncoderLayer layer(E, 2, {.dim_feedforward = 32, .dropout = 0.0, .batch_first = true,
                                               .norm_first = true, .dtype = tg::DType::f64},
                                        gen);
  const Tensor x = tg::randn({N, L, E}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);
  const Tensor mine = pre_norm_layer(layer, x), theirs = layer(x);
  tg::sum(mine * mine).backward();
  const Tensor mine_grad = x.grad();
  x.set_grad(Tensor());
  tg::sum(theirs * theirs).backward();
  const double worst = std::max(max_abs_diff(mine, theirs), max_abs_diff(mine_grad, x.grad()));
  expect(worst < 1e-12, fmt::format("pre-norm from the layer's parts: values and dx within {:.1e} of "
                                    "nn::TransformerEncoderLayer(norm_first = true)",
                                    worst));
  x.set_grad(Tensor());

  // Twelve layers of each arrangement, the same initial weights for both.
  const int depth = 12;
  tg::nn::ModuleListOf<tg::nn::TransformerEncoderLayer> stack;
  for (int i = 0; i < depth; ++i) stack.push_back(E, 2, options, gen);
  Tensor post = x, pre = x;
  std::vector<double> post_spread, pre_spread;
  for (const tg::nn::TransformerEncoderLayer& l : stack) {
    post = l(post);  // post-norm: options leave norm_first false
    pre = pre_norm_layer(l, pre);
    post_spread.push_back(spread(post));
    pre_spread.push_back(spread(pre));
  }
  fmt::print("{:>5} {:>10} {:>10}\n", "layer", "post-norm", "pre-norm");
  for (int i = 0; i < depth; ++i) fmt::print("{:>5} {:>10.3f} {:>10.3f}\n", i + 1, post_spread[i], pre_spread[i]);
  const bool post_flat = std::all_of(post_spread.begin(), post_spread.end(), [](double s) { return std::abs(s - 1) < 0.01; });
  expect(post_flat && pre_spread.back() > 1.5 * pre_spread.front(),
         fmt::format("the output's standard deviation: post-norm 1 at every depth, pre-norm grows from {:.2f} to {:.2f}",
                     pre_spread.front(), pre_spread.back()));

  // How much gradient reaches the input through each stack (a loss that reads every output element).
  const Tensor probe = tg::randn({N, L, E}, {.dtype = tg::DType::f64}, gen);
  tg::sum(post * probe).backward();
  const double post_grad = std::sqrt(tg::sum(x.grad() * x.grad()).item());
  x.set_grad(Tensor());
  tg::sum(pre * probe).backward();
  const double pre_grad = std::sqrt(tg::sum(x.grad() * x.grad()).item());
  expect(pre_grad > post_grad, fmt::format("|dx| after 12 layers: pre-norm {:.3f}, post-norm {:.3f}: the residual path "
                                           "that no norm divides carries the gradient back",
                                           pre_grad, post_grad));
  return tutorial::exit_status();
}
