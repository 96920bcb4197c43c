// Chapter 7, exercise 1: a convolution with stride 2 and dilation 2 written
// straight from its definition, one output element at a time,
//   y[b, o, i, j] = bias[o] + Σ_c Σ_u Σ_v w[o, c, u, v] · x_pad[b, c, i·s + u·d, j·s + v·d],
// with the output size from OH = ⌊(H + 2p − d(K − 1) − 1) / s⌋ + 1, checked
// against tg::conv2d (float64, 1e-12). Exits 1 if they differ.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <vector>

int main() {
  tg::Generator gen(11);
  const int64_t B = 2, C = 2, H = 9, W = 8, O = 3, K = 3, stride = 2, padding = 1, dilation = 2;
  const int64_t OH = (H + 2 * padding - dilation * (K - 1) - 1) / stride + 1;  // (9 + 2 - 4 - 1) / 2 + 1 = 4
  const int64_t OW = (W + 2 * padding - dilation * (K - 1) - 1) / stride + 1;  // (8 + 2 - 4 - 1) / 2 + 1 = 3
  const tg::Tensor x = tg::randn({B, C, H, W}, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor w = tg::randn({O, C, K, K}, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor bias = tg::randn({O}, {.dtype = tg::DType::f64}, gen);
  const std::vector<double> xs = x.to_vector<double>(), ws = w.to_vector<double>(), bs = bias.to_vector<double>();

  std::vector<double> y(static_cast<size_t>(B * O * OH * OW));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          double sum = bs[static_cast<size_t>(o)];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t u = 0; u < K; ++u)
              for (int64_t v = 0; v < K; ++v) {
                // The padded image's row i·s + u·d is the input's row i·s + u·d − p: outside it, a zero.
                const int64_t row = i * stride + u * dilation - padding, col = j * stride + v * dilation - padding;
                if (row < 0 || row >= H || col < 0 || col >= W) continue;
                sum += ws[static_cast<size_t>(((o * C + c) * K + u) * K + v)] *
                       xs[static_cast<size_t>(((b * C + c) * H + row) * W + col)];
              }
          y[static_cast<size_t>(((b * O + o) * OH + i) * OW + j)] = sum;
        }

  const tg::Tensor library = tg::conv2d(x, w, bias, stride, padding, dilation);
  const std::vector<double> ys = library.to_vector<double>();
  double worst = ys.size() == y.size() ? 0 : INFINITY;
  for (size_t n = 0; n < y.size() && n < ys.size(); ++n) worst = std::max(worst, std::abs(y[n] - ys[n]));
  const bool ok = library.shape() == tg::Shape{B, O, OH, OW} && worst < 1e-12;
  fmt::print("{} stride {}, dilation {}, padding {}: ({}, {}) -> ({}, {}) by hand, tg::conv2d {}, largest difference "
             "{:.1e}\n",
             ok ? "ok  " : "FAIL", stride, dilation, padding, H, W, OH, OW, library.shape().str(), worst);
  return ok ? 0 : 1;
}
