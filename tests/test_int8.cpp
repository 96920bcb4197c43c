// Int8 products for decoding: kernels/int8_linear/ (quantizers, the cpu
// body against the reference body, bit for bit) and tg::Int8Linear (against
// the float32 product within the quantization's error bound, errors).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "kernels/int8_linear/int8_linear_cpu.h"
#include "tapegrad.h"
#include "test_support.h"

using tg::DType;
using tg::Shape;
using tg::Tensor;

namespace {

Tensor uniform(Shape shape, std::mt19937& rng, double scale = 1) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> values(static_cast<size_t>(shape.numel()));
  for (float& v : values) v = static_cast<float>(scale) * u(rng);
  return tg::tensor(values, shape);
}

std::vector<float> run_kernel(tg::Backend& backend, const Tensor& x, const tg::kernels::Int8Rows& w, const Tensor& bias) {
  Tensor y = tg::zeros({x.size(0), w.rows});
  tg::kernels::int8_linear(backend, {x.view(), &w, bias.defined() ? bias.view() : tg::View{}, y.view()});
  return y.to_vector<float>();
}

}  // namespace

TEST_CASE("quantize_rows: per-row scales, codes in [-127, 127], round to nearest, a zero row") {
  const Tensor w = tg::tensor(std::vector<float>{1.0f, -0.5f, 0.25f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -3.0f, 1.5f, 0.01f, 3.0f},
                              Shape{3, 4});
  const tg::kernels::Int8Rows q = tg::kernels::quantize_rows(w.view());
  CHECK(q.rows == 3);
  CHECK(q.cols == 4);
  CHECK(q.scales[0] == doctest::Approx(1.0 / 127));
  CHECK(q.scales[1] == 1.0f);  // a zero row keeps scale 1 (codes 0)
  CHECK(q.scales[2] == doctest::Approx(3.0 / 127));
  CHECK(q.code(0, 0) == 127);
  CHECK(q.code(0, 1) == -64);  // -63.5 rounds to the even -64
  CHECK(q.code(0, 2) == 32);   // 31.75
  CHECK(q.code(2, 0) == -127);
  CHECK(q.code(2, 2) == 0);    // 0.42
  CHECK(q.code(2, 3) == 127);
  CHECK(q.sums[0] == 127 - 64 + 32);
  CHECK(q.sums[1] == 0);
  // A row whose largest value is so small that its step underflows quantizes to zeros (scale 1), not to NaN.
  Tensor tiny = tg::zeros({1, 3});
  tiny.data<float>()[1] = 1e-44f;
  const tg::kernels::Int8Rows q_tiny = tg::kernels::quantize_rows(tiny.view());
  CHECK(q_tiny.scales[0] == 1.0f);
  CHECK(q_tiny.code(0, 1) == 0);
  Tensor bad = tg::zeros({2, 3});
  bad.data<float>()[4] = NAN;
  CHECK_THROWS_WITH_AS(tg::kernels::quantize_rows(bad.view()),
                       "quantize_rows: weight[1, 1] is nan: only finite weights can be quantized", tg::Error);
}

TEST_CASE("int8_linear: the cpu body equals the reference body bit for bit on every tile and remainder, each kernel (vpdpbusd, AMX tiles where they run)") {
#if !(defined(__AVX512VNNI__) && defined(__AVX512BW__))
  MESSAGE("this build has no AVX512-VNNI target: the cpu backend runs the reference body, compared here with itself");
#endif
  std::mt19937 rng(40);
  struct Dims {
    int64_t m, k, n;
  };
  // K not a multiple of 4, N past several 32-column panels with a narrow last one, M past a 12-row tile, K
  // past one block of 512 (sums carried between blocks) with a part block last; for the tiles, K in whole
  // 64-byte rows and not, M past 16 and 32 rows.
  const Dims dims[] = {{1, 1, 1},       {3, 5, 7},        {12, 64, 32}, {13, 130, 95},
                       {40, 257, 300},  {64, 512, 1000},  {5, 1024, 33}, {25, 1100, 70}, {33, 128, 64}, {17, 63, 40}};
  const tg::kernels::Int8Kernel chosen = tg::kernels::int8_kernel();
  std::vector<tg::kernels::Int8Kernel> kernels = tg::kernels::int8_kernels_here();
  if (kernels.empty()) kernels.push_back(chosen);  // the reference body, which set_int8_kernel accepts
  for (tg::kernels::Int8Kernel kernel : kernels)
    for (int threads : {1, 2}) {
      tg::kernels::set_int8_kernel(kernel);
      tg::set_num_threads(threads);
      for (const Dims& d : dims)
        for (bool with_bias : {false, true}) {
          INFO("kernel=" << int(kernel) << " threads=" << threads << " m=" << d.m << " k=" << d.k << " n=" << d.n
                         << " bias=" << with_bias);
          const Tensor x = uniform({d.m, d.k}, rng, 3), w = uniform({d.n, d.k}, rng, 0.2);
          const Tensor bias = with_bias ? uniform({d.n}, rng) : Tensor();
          const tg::kernels::Int8Rows q = tg::kernels::quantize_rows(w.view());
          const std::vector<float> cpu = run_kernel(tg::cpu_backend(), x, q, bias);
          const std::vector<float> ref = run_kernel(tg::reference_backend(), x, q, bias);
          CHECK(std::memcmp(cpu.data(), ref.data(), cpu.size() * sizeof(float)) == 0);
        }
    }
  tg::kernels::set_int8_kernel(chosen);
  tg::set_num_threads(2);
}

TEST_CASE("Int8Linear: within the quantization's bound of the float32 product; batch shapes; bias") {
  std::mt19937 rng(41);
  const int64_t B = 3, T = 4, K = 300, N = 70;
  const Tensor x = uniform({B, T, K}, rng, 2), w = uniform({N, K}, rng, 0.1), bias = uniform({N}, rng);
  const tg::Int8Linear layer = tg::Int8Linear::quantize(w, bias);
  CHECK(layer.in_features() == K);
  CHECK(layer.out_features() == N);
  const tg::NoGrad no_grad;
  const Tensor got = layer(x);
  CHECK(got.shape() == Shape{B, T, N});
  const Tensor exact = tg::linear(x, w, bias);  // w (N, K), as F.linear
  // |x w - x̂ ŵ| <= Σ_k |x_k| s/2 + |w_k| t/2 + t s/4 for x̂ = t p, ŵ = s q (half a step each), plus float rounding.
  const std::vector<float> xs = x.to_vector<float>(), ws = w.to_vector<float>(), g = got.to_vector<float>(),
                           e = exact.to_vector<float>();
  double worst = 0;  // the largest error as a share of its bound
  for (int64_t r = 0; r < B * T; ++r) {
    double largest = 0;
    for (int64_t k = 0; k < K; ++k) largest = std::max(largest, double(std::abs(xs[r * K + k])));
    const double t = largest / 127;
    for (int64_t j = 0; j < N; ++j) {
      double w_largest = 0, bound = 0;
      for (int64_t k = 0; k < K; ++k) w_largest = std::max(w_largest, double(std::abs(ws[j * K + k])));
      const double s = w_largest / 127;
      for (int64_t k = 0; k < K; ++k) bound += std::abs(xs[r * K + k]) * s / 2 + std::abs(ws[j * K + k]) * t / 2 + t * s / 4;
      worst = std::max(worst, std::abs(double(g[r * N + j]) - e[r * N + j]) / (bound + 1e-5));
    }
  }
  CHECK(worst <= 1.0);
  CHECK(worst > 0.001);  // the product did go through int8: it is not the float32 one
  // A quantized product of a row is the same alone and in a batch (rows are quantized one by one).
  const Tensor row = layer(tg::select(tg::select(x, 0, 1), 0, 2));  // x[1, 2] (K)
  const std::vector<float> alone = row.to_vector<float>();
  for (int64_t j = 0; j < N; ++j) CHECK(alone[j] == g[(1 * T + 2) * N + j]);
}

TEST_CASE("Int8Linear: a non-finite input row comes out NaN, the other rows do not") {
  std::mt19937 rng(42);
  const Tensor w = uniform({5, 8}, rng);
  Tensor x = uniform({3, 8}, rng);
  x.data<float>()[8 + 3] = INFINITY;  // row 1
  const tg::NoGrad no_grad;
  const std::vector<float> y = tg::Int8Linear::quantize(w)(x).to_vector<float>();
  for (int64_t j = 0; j < 5; ++j) {
    CHECK(std::isfinite(y[j]));
    CHECK(std::isnan(y[5 + j]));
    CHECK(std::isfinite(y[10 + j]));
  }
}

TEST_CASE("Int8Linear: errors name what was expected and what was got") {
  std::mt19937 rng(43);
  const Tensor w = uniform({4, 6}, rng);
  const tg::Int8Linear layer = tg::Int8Linear::quantize(w);
  const tg::NoGrad no_grad;
  CHECK_THROWS_WITH_AS(layer(tg::zeros({2, 5})), "Int8Linear: x (2, 5) against a weight (4, 6): expected x (..., 6)",
                       tg::Error);
  CHECK_THROWS_WITH_AS(layer(tg::zeros({2, 6}, {DType::f64})),
                       "Int8Linear: x must be a float32 host tensor, got float64 on cpu", tg::Error);
  CHECK_THROWS_WITH_AS(tg::Int8Linear::quantize(w, tg::zeros({5})),
                       "Int8Linear: the bias must be (4) for a weight (4, 6), got (5,)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::Int8Linear::quantize(tg::zeros({6})), "Int8Linear: the weight must be (out, in), got (6,)",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::Int8Linear()(tg::zeros({2, 6})),
                       "Int8Linear: not quantized (make one with Int8Linear::quantize)", tg::Error);
}

TEST_CASE("Int8Linear: no gradient: a call that would record one throws") {
  std::mt19937 rng(44);
  const tg::Int8Linear layer = tg::Int8Linear::quantize(uniform({4, 6}, rng));
  const Tensor x = uniform({2, 6}, rng).requires_grad_();
  CHECK_THROWS_WITH_AS(layer(x),
                       "Int8Linear: no gradient through int8 products (they are for inference): call it under "
                       "tg::NoGrad or with an x that does not require grad",
                       tg::Error);
  const tg::NoGrad no_grad;
  CHECK(layer(x).shape() == Shape{2, 4});
}

TEST_CASE("GRU/LSTM quantize_for_inference: int8 products as composed by hand, near float32, padding kept") {
  std::mt19937 rng(17);
  tg::NoGrad no_grad;
  // One layer, one direction: exactly Int8Linear(W_ih, b_ih) over all steps, then per step
  // Int8Linear(W_hh, b_hh) and the GRU's gate arithmetic.
  tg::Generator gen(3);
  tg::nn::GRU gru(5, 7, {}, gen);
  const Tensor x = uniform({4, 3, 5}, rng);  // (T, B, I)
  const tg::nn::GRUOutput exact = gru(x);
  CHECK_FALSE(gru.quantized_for_inference());
  gru.quantize_for_inference();
  CHECK(gru.quantized_for_inference());
  const tg::nn::GRUOutput quantized = gru(x);
  const tg::nn::RecurrentWeights& w = gru.weights(0);
  const tg::Int8Linear input = tg::Int8Linear::quantize(w.weight_ih, w.bias_ih);
  const tg::Int8Linear recurrent = tg::Int8Linear::quantize(w.weight_hh, w.bias_hh);
  const Tensor gi = input(x);  // (T, B, 3H)
  Tensor h = tg::zeros({3, 7});
  for (int64_t t = 0; t < 4; ++t) {
    h = tg::gru_gates(tg::select(gi, 0, t), recurrent(h), h);
    CHECK(tg::select(quantized.output, 0, t).to_vector<float>() == h.to_vector<float>());
  }
  const double moved = tg::max(tg::abs(quantized.output - exact.output)).item();
  CHECK(moved > 0);
  CHECK(moved < 0.03);

  // Two bidirectional layers with padding, GRU and LSTM: near float32, zero past each length, and h_n
  // the forward direction's state at the last real step.
  const Tensor lengths = tg::index_tensor({6, 2, 4}, Shape{3});
  const Tensor padded = uniform({6, 3, 5}, rng);
  tg::nn::GRU deep_gru(5, 8, {.num_layers = 2, .bidirectional = true}, gen);
  tg::nn::LSTM deep_lstm(5, 8, {.num_layers = 2, .bidirectional = true}, gen);
  const tg::nn::GRUOutput gru_exact = deep_gru(padded, {}, lengths);
  const tg::nn::LSTMOutput lstm_exact = deep_lstm(padded, {}, {}, lengths);
  deep_gru.quantize_for_inference();
  deep_lstm.quantize_for_inference();
  const tg::nn::GRUOutput gru_int8 = deep_gru(padded, {}, lengths);
  const tg::nn::LSTMOutput lstm_int8 = deep_lstm(padded, {}, {}, lengths);
  struct Run {
    const char* name;
    Tensor out, ref, h_n;
  };
  for (const Run& run : {Run{"GRU", gru_int8.output, gru_exact.output, gru_int8.h_n},
                         Run{"LSTM", lstm_int8.output, lstm_exact.output, lstm_int8.h_n}}) {
    CAPTURE(run.name);
    const Tensor& out = run.out;
    const Tensor& ref = run.ref;
    const Tensor& h_n = run.h_n;
    const double diff = tg::max(tg::abs(out - ref)).item();
    CHECK(diff > 0);
    CHECK(diff < 0.05);
    CHECK(tg::select(tg::select(out, 1, 1), 0, 3).to_vector<float>() == std::vector<float>(16, 0.0f));  // t = 3 >= 2
    // h_n[2] is layer 1's forward state; at sentence 1 it is the output at its last real step, t = 1.
    CHECK(tg::select(tg::select(h_n, 0, 2), 0, 1).to_vector<float>() ==
          tg::slice(tg::select(tg::select(out, 0, 1), 0, 1), 0, 0, 8).to_vector<float>());
  }

  // Training through it is refused; a float64 network cannot be quantized.
  {
    tg::EnableGrad grad;
    const Tensor x_grad = uniform({4, 3, 5}, rng).requires_grad_();
    CHECK_THROWS_WITH_AS(gru(x_grad), doctest::Contains("no gradient through int8 products"), tg::Error);
  }
  tg::nn::GRU f64(5, 7, {.dtype = DType::f64}, gen);
  CHECK_THROWS_WITH_AS(f64.quantize_for_inference(), doctest::Contains("must be a float32 host tensor, got float64"),
                       tg::Error);
}
