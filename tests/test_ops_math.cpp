// Elementwise maths, reductions and losses: forward values worked out by hand,
// float64 finite-difference gradient checks, error messages, and the same
// forward checks under the reference backend.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "tapegrad.h"
#include "test_support.h"

namespace {

using test_support::check_gradcheck;
using tg::Shape;
using tg::Tensor;
using Inputs = std::vector<Tensor>;

const double kLn2 = std::log(2.0);
const double kLn3 = std::log(3.0);

Tensor f32(const std::vector<float>& values, const Shape& shape) { return tg::tensor(values, shape); }
Tensor f32_grad(const std::vector<float>& values, const Shape& shape) { return tg::tensor(values, shape, true); }

// Float64 leaves for gradcheck.
tg::TensorOptions f64_grad() { return {tg::DType::f64, tg::Device::cpu(), true}; }
Tensor randn64(const Shape& shape, tg::Generator& gen) { return tg::randn(shape, f64_grad(), gen); }
// Values in [0.5, 2): away from the poles of log, sqrt, 1/x.
Tensor positive64(const Shape& shape, tg::Generator& gen) { return tg::uniform(shape, 0.5, 2.0, f64_grad(), gen); }

void check_values(const Tensor& t, const Shape& shape, const std::vector<double>& expected, double eps = 1e-6) {
  REQUIRE(t.shape() == shape);
  const std::vector<double> got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK_MESSAGE(got[i] == doctest::Approx(expected[i]).epsilon(eps), "element " << i);
}

// Runs `body` with the cpu backend, then with the reference backend.
void on_both_backends(const std::function<void()>& body) {
  for (tg::Backend* backend : {&tg::cpu_backend(), &tg::reference_backend()}) {
    INFO("host backend: " << backend->name());
    tg::HostBackendScope scope(*backend);
    REQUIRE(tg::host_backend().name() == backend->name());
    body();
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// binary elementwise

TEST_CASE("add: values, broadcasting and scalars") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3, 4, 5, 6}, Shape{2, 3});
    const Tensor b = f32({10, 20, 30}, Shape{3});
    check_values(a + b, Shape{2, 3}, {11, 22, 33, 14, 25, 36});
    check_values(a + 0.5, Shape{2, 3}, {1.5, 2.5, 3.5, 4.5, 5.5, 6.5});
    check_values(2.0 + b, Shape{3}, {12, 22, 32});
    const Tensor column = f32({100, 200}, Shape{2, 1});
    check_values(column + b, Shape{2, 3}, {110, 120, 130, 210, 220, 230});
  });
}

TEST_CASE("add: gradients") {
  tg::Generator gen(1);
  check_gradcheck([](const Inputs& in) { return in[0] + in[1]; }, {randn64({2, 3}, gen), randn64({3}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] + in[1]; }, {randn64({2, 1, 3}, gen), randn64({4, 1}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::transpose(in[0], 0, 1) + in[1]; },
             {randn64({3, 2}, gen), randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] + 1.5; }, {randn64({4}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] + in[0]; }, {randn64({3}, gen)});

  // Used twice: the contributions accumulate (d(x + x)/dx = 2).
  const Tensor x = f32_grad({1, 2}, Shape{2});
  tg::sum(x + x).backward();
  check_values(x.grad(), Shape{2}, {2, 2});
}

TEST_CASE("add: errors") {
  const Tensor a = tg::zeros({2, 3});
  CHECK_THROWS_WITH_AS(a + tg::zeros({4}), doctest::Contains("do not broadcast"), tg::Error);
  CHECK((a + tg::zeros({2, 3}, {tg::DType::f64})).dtype() == tg::DType::f64);  // promoted, as PyTorch
}

TEST_CASE("sub: values, broadcasting and scalars") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3, 4, 5, 6}, Shape{2, 3});
    const Tensor b = f32({10, 20, 30}, Shape{3});
    check_values(a - b, Shape{2, 3}, {-9, -18, -27, -6, -15, -24});
    check_values(b - a, Shape{2, 3}, {9, 18, 27, 6, 15, 24});
    check_values(a - 1.0, Shape{2, 3}, {0, 1, 2, 3, 4, 5});
    check_values(1.0 - a, Shape{2, 3}, {0, -1, -2, -3, -4, -5});
  });
}

TEST_CASE("sub: gradients") {
  tg::Generator gen(2);
  check_gradcheck([](const Inputs& in) { return in[0] - in[1]; }, {randn64({2, 3}, gen), randn64({3}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] - in[1]; }, {randn64({3, 1}, gen), randn64({1, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] - tg::transpose(in[1], 0, 1); },
             {randn64({2, 3}, gen), randn64({3, 2}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] - 2.0; }, {randn64({4}, gen)});
  check_gradcheck([](const Inputs& in) { return 2.0 - in[0]; }, {randn64({4}, gen)});

  // d(a - b)/db = -1, summed over the broadcast rows.
  const Tensor a = f32_grad({1, 2, 3, 4}, Shape{2, 2});
  const Tensor b = f32_grad({5, 6}, Shape{2});
  tg::sum(a - b).backward();
  check_values(a.grad(), Shape{2, 2}, {1, 1, 1, 1});
  check_values(b.grad(), Shape{2}, {-2, -2});
}

TEST_CASE("sub: errors") {
  CHECK_THROWS_WITH_AS(tg::zeros({2}) - tg::zeros({3}), doctest::Contains("do not broadcast"), tg::Error);
  CHECK((tg::zeros({2}) - tg::zeros({2}, {tg::DType::f64})).dtype() == tg::DType::f64);  // promoted, as PyTorch
  const Tensor flags = tg::index_tensor({1, 0}).to(tg::DType::boolean);  // int64 has arithmetic (test_tape.cpp); bool has none
  CHECK_THROWS_WITH_AS(flags - flags, doctest::Contains("sub: needs a float32 or float64 tensor"), tg::Error);
}

TEST_CASE("mul: values, broadcasting and scalars") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3, 4, 5, 6}, Shape{2, 3});
    const Tensor b = f32({2, -1, 0.5}, Shape{3});
    check_values(a * b, Shape{2, 3}, {2, -2, 1.5, 8, -5, 3});
    check_values(a * 3.0, Shape{2, 3}, {3, 6, 9, 12, 15, 18});
    check_values(-2.0 * b, Shape{3}, {-4, 2, -1});
  });
}

TEST_CASE("mul: gradients") {
  tg::Generator gen(3);
  check_gradcheck([](const Inputs& in) { return in[0] * in[1]; }, {randn64({2, 3}, gen), randn64({3}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] * in[1]; }, {randn64({2, 1, 3}, gen), randn64({4, 1}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::transpose(in[0], 0, 1) * in[1]; },
             {randn64({3, 2}, gen), randn64({2, 1}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] * in[0]; }, {randn64({5}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] * -1.5; }, {randn64({4}, gen)});

  // d(a ⊙ b)/da = b, d/db = a summed over rows.
  const Tensor a = f32_grad({1, 2, 3, 4}, Shape{2, 2});
  const Tensor b = f32_grad({5, 6}, Shape{2});
  tg::sum(a * b).backward();
  check_values(a.grad(), Shape{2, 2}, {5, 6, 5, 6});
  check_values(b.grad(), Shape{2}, {4, 6});
}

TEST_CASE("mul: errors") {
  CHECK_THROWS_WITH_AS(tg::zeros({2, 3}) * tg::zeros({2}), doctest::Contains("do not broadcast"), tg::Error);
  CHECK((tg::zeros({2}) * tg::zeros({2}, {tg::DType::f64})).dtype() == tg::DType::f64);  // promoted, as PyTorch
}

TEST_CASE("div: values, broadcasting and scalars") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3, 4, 5, 6}, Shape{2, 3});
    const Tensor b = f32({2, 4, 0.5}, Shape{3});
    check_values(a / b, Shape{2, 3}, {0.5, 0.5, 6, 2, 1.25, 12});
    check_values(a / 4.0, Shape{2, 3}, {0.25, 0.5, 0.75, 1, 1.25, 1.5});
    check_values(1.0 / b, Shape{3}, {0.5, 0.25, 2});
  });
}

TEST_CASE("div: gradients") {
  tg::Generator gen(4);
  check_gradcheck([](const Inputs& in) { return in[0] / in[1]; }, {randn64({2, 3}, gen), positive64({3}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] / in[1]; }, {randn64({3, 1}, gen), positive64({1, 2}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] / tg::transpose(in[1], 0, 1); },
             {randn64({2, 3}, gen), positive64({3, 2}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] / in[0]; }, {positive64({3}, gen)});
  check_gradcheck([](const Inputs& in) { return in[0] / 3.0; }, {randn64({4}, gen)});
  check_gradcheck([](const Inputs& in) { return 3.0 / in[0]; }, {positive64({4}, gen)});

  // y = a / b at a = 3, b = 2: dy/da = 1/b = 0.5, dy/db = -a/b² = -0.75.
  const Tensor a = f32_grad({3}, Shape{1});
  const Tensor b = f32_grad({2}, Shape{1});
  tg::sum(a / b).backward();
  check_values(a.grad(), Shape{1}, {0.5});
  check_values(b.grad(), Shape{1}, {-0.75});
  // y = 6 / x at x = 2: dy/dx = -6/x² = -1.5.
  const Tensor x = f32_grad({2}, Shape{1});
  tg::sum(6.0 / x).backward();
  check_values(x.grad(), Shape{1}, {-1.5});
}

TEST_CASE("div: errors") {
  CHECK_THROWS_WITH_AS(tg::zeros({2}) / tg::zeros({3}), doctest::Contains("do not broadcast"), tg::Error);
  // Integers and bools divide as float32 (true division, as PyTorch's /).
  CHECK((1.0 / tg::index_tensor({2}).to(tg::DType::boolean)).to_vector<float>() == std::vector<float>{1.0f});
  CHECK((3 / tg::index_tensor({2})).to_vector<float>() == std::vector<float>{1.5f});
}

// ---------------------------------------------------------------------------
// unary elementwise

TEST_CASE("neg: values and gradient") {
  on_both_backends([] {
    const Tensor x = f32({1, -2, 0}, Shape{3});
    check_values(tg::neg(x), Shape{3}, {-1, 2, 0});
    check_values(-x, Shape{3}, {-1, 2, 0});
  });
  tg::Generator gen(5);
  check_gradcheck([](const Inputs& in) { return -in[0]; }, {randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::neg(tg::transpose(in[0], 0, 1)); }, {randn64({2, 3}, gen)});
}

TEST_CASE("exp: values and gradient") {
  on_both_backends([] {
    check_values(tg::exp(f32({0, 1, -1, static_cast<float>(kLn2)}, Shape{4})), Shape{4}, {1, M_E, 1 / M_E, 2});
  });
  tg::Generator gen(6);
  check_gradcheck([](const Inputs& in) { return tg::exp(in[0]); }, {randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::exp(tg::transpose(in[0], 0, 1)); }, {randn64({2, 3}, gen)});
  // d eˣ/dx = eˣ: at x = ln 2 it is 2.
  const Tensor x = f32_grad({float(kLn2)}, Shape{1});
  tg::sum(tg::exp(x)).backward();
  check_values(x.grad(), Shape{1}, {2});
}

TEST_CASE("log: values, gradient and domain") {
  on_both_backends([] {
    check_values(tg::log(f32({1, float(M_E), 0.5, 4}, Shape{4})), Shape{4}, {0, 1, -kLn2, 2 * kLn2});
    const std::vector<double> edge = tg::log(f32({0, -1}, Shape{2})).to_vector<double>();
    CHECK(std::isinf(edge[0]));
    CHECK(edge[0] < 0);
    CHECK(std::isnan(edge[1]));
  });
  tg::Generator gen(7);
  check_gradcheck([](const Inputs& in) { return tg::log(in[0]); }, {positive64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::log(tg::transpose(in[0], 0, 1)); }, {positive64({2, 3}, gen)});
  const Tensor x = f32_grad({4}, Shape{1});
  tg::sum(tg::log(x)).backward();
  check_values(x.grad(), Shape{1}, {0.25});
  CHECK_THROWS_WITH_AS(tg::log(tg::index_tensor({1})), doctest::Contains("log: needs a float32 or float64"),
                       tg::Error);
}

TEST_CASE("sqrt: values and gradient") {
  on_both_backends([] { check_values(tg::sqrt(f32({4, 9, 0.25, 0}, Shape{4})), Shape{4}, {2, 3, 0.5, 0}); });
  tg::Generator gen(8);
  check_gradcheck([](const Inputs& in) { return tg::sqrt(in[0]); }, {positive64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::sqrt(tg::transpose(in[0], 0, 1)); }, {positive64({2, 3}, gen)});
  // d√x/dx = 1/(2√x): at x = 4 it is 0.25.
  const Tensor x = f32_grad({4}, Shape{1});
  tg::sum(tg::sqrt(x)).backward();
  check_values(x.grad(), Shape{1}, {0.25});
}

TEST_CASE("pow: values and gradient") {
  on_both_backends([] {
    const Tensor x = f32({2, 3, 0.5}, Shape{3});
    check_values(tg::pow(x, 3), Shape{3}, {8, 27, 0.125});
    check_values(tg::pow(x, 0.5), Shape{3}, {std::sqrt(2.0), std::sqrt(3.0), std::sqrt(0.5)});
    check_values(tg::pow(x, -1), Shape{3}, {0.5, 1.0 / 3, 2});
    check_values(tg::pow(x, 0), Shape{3}, {1, 1, 1});
  });
  tg::Generator gen(9);
  check_gradcheck([](const Inputs& in) { return tg::pow(in[0], 3); }, {randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::pow(in[0], 2.5); }, {positive64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::pow(in[0], -1); }, {positive64({4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::pow(tg::transpose(in[0], 0, 1), 2); }, {randn64({2, 3}, gen)});
  // d x³/dx = 3x²: at x = 2 it is 12.
  const Tensor x = f32_grad({2}, Shape{1});
  tg::sum(tg::pow(x, 3)).backward();
  check_values(x.grad(), Shape{1}, {12});
}

TEST_CASE("sigmoid: values and gradient") {
  on_both_backends([] {
    // σ(ln 3) = 1 / (1 + 1/3) = 0.75; σ(-ln 3) = 0.25; saturates without NaN.
    check_values(tg::sigmoid(f32({0, float(kLn3), float(-kLn3), 100, -100}, Shape{5})), Shape{5},
                 {0.5, 0.75, 0.25, 1, 0});
  });
  tg::Generator gen(10);
  check_gradcheck([](const Inputs& in) { return tg::sigmoid(in[0]); }, {randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::sigmoid(tg::transpose(in[0], 0, 1)); }, {randn64({2, 3}, gen)});
  // σ' = σ(1 - σ): at ln 3 it is 0.75 · 0.25.
  const Tensor x = f32_grad({float(kLn3)}, Shape{1});
  tg::sum(tg::sigmoid(x)).backward();
  check_values(x.grad(), Shape{1}, {0.1875});
}

TEST_CASE("relu: values and gradient") {
  on_both_backends([] { check_values(tg::relu(f32({-1, 0.5, 2, -0.25}, Shape{4})), Shape{4}, {0, 0.5, 2, 0}); });
  tg::Generator gen(11);
  check_gradcheck([](const Inputs& in) { return tg::relu(in[0]); }, {randn64({3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::relu(tg::transpose(in[0], 0, 1)); }, {randn64({3, 4}, gen)});
  const Tensor x = f32_grad({-1, 0.5, 2, -0.25}, Shape{4});
  tg::sum(tg::relu(x)).backward();
  check_values(x.grad(), Shape{4}, {0, 1, 1, 0});
}

TEST_CASE("tanh: values and gradient") {
  on_both_backends([] {
    // tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6
    check_values(tg::tanh(f32({0, float(kLn2), float(-kLn2), 50}, Shape{4})), Shape{4}, {0, 0.6, -0.6, 1});
  });
  tg::Generator gen(12);
  check_gradcheck([](const Inputs& in) { return tg::tanh(in[0]); }, {randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::tanh(tg::transpose(in[0], 0, 1)); }, {randn64({2, 3}, gen)});
  // tanh' = 1 - tanh²: at ln 2 it is 1 - 0.36.
  const Tensor x = f32_grad({float(kLn2)}, Shape{1});
  tg::sum(tg::tanh(x)).backward();
  check_values(x.grad(), Shape{1}, {0.64});
  CHECK_THROWS_WITH_AS(tg::tanh(tg::index_tensor({1})), doctest::Contains("tanh: needs a float32 or float64"),
                       tg::Error);
}

TEST_CASE("unary ops compose: x·σ(x) - exp(log x)/√x²") {
  tg::Generator gen(13);
  check_gradcheck(
      [](const Inputs& in) {
        const Tensor& x = in[0];
        return x * tg::sigmoid(x) - tg::exp(tg::log(x)) / tg::sqrt(tg::pow(x, 2));
      },
      {positive64({5}, gen)});
}

// ---------------------------------------------------------------------------
// reductions

TEST_CASE("sum: values") {
  on_both_backends([] {
    const Tensor x = f32({1, 2, 3, 4, 5, 6}, Shape{2, 3});
    check_values(tg::sum(x), Shape{}, {21});
    check_values(tg::sum(x, {0}), Shape{3}, {5, 7, 9});
    check_values(tg::sum(x, {-1}), Shape{2}, {6, 15});
    check_values(tg::sum(x, {1}, true), Shape{2, 1}, {6, 15});
    check_values(tg::sum(x, {0, 1}), Shape{}, {21});
    check_values(tg::sum(x, {1, 0}, true), Shape{1, 1}, {21});
    check_values(tg::sum(tg::transpose(x, 0, 1), {1}), Shape{3}, {5, 7, 9});
  });
}

TEST_CASE("sum: gradients") {
  tg::Generator gen(14);
  check_gradcheck([](const Inputs& in) { return tg::sum(in[0]); }, {randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::sum(in[0], {1}); }, {randn64({2, 3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::sum(in[0], {0, 2}, true); }, {randn64({2, 3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::sum(tg::transpose(in[0], 0, 2), {-1}); }, {randn64({2, 3, 4}, gen)});
  const Tensor x = f32_grad({1, 2, 3, 4}, Shape{2, 2});
  tg::sum(tg::sum(x, {0}) * f32({1, 10}, Shape{2})).backward();
  check_values(x.grad(), Shape{2, 2}, {1, 10, 1, 10});
}

TEST_CASE("sum: errors") {
  const Tensor x = tg::zeros({2, 3});
  CHECK_THROWS_WITH_AS(tg::sum(x, {2}), doctest::Contains("sum"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::sum(x, {1, -1}), doctest::Contains("sum: an axis is listed twice"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::sum(tg::index_tensor({1, 2}), {1}), doctest::Contains("sum"), tg::Error);
}

TEST_CASE("sum of bool and int64 tensors: an int64 count, as PyTorch's") {
  const Tensor counts = tg::sum(tg::index_tensor({1, 2, 3, 4, 5, 6}, tg::Shape{2, 3}), {1});
  CHECK(counts.dtype() == tg::DType::i64);
  CHECK(counts.to_vector<int64_t>() == std::vector<int64_t>{6, 15});
  const Tensor flags = tg::gt(tg::tensor({0.5f, -1.f, 2.f, 3.f}), 0.0);
  CHECK(tg::sum(flags).dtype() == tg::DType::i64);
  CHECK(tg::sum(flags).item() == 3);
  const Tensor big = tg::index_tensor({int64_t{1} << 52, 1});
  CHECK(tg::sum(big).to_vector<int64_t>() == std::vector<int64_t>{(int64_t{1} << 52) + 1});
}

TEST_CASE("mean: values, gradients and errors") {
  on_both_backends([] {
    const Tensor x = f32({1, 2, 3, 4, 5, 6}, Shape{2, 3});
    check_values(tg::mean(x), Shape{}, {3.5});
    check_values(tg::mean(x, {1}), Shape{2}, {2, 5});
    check_values(tg::mean(x, {0}, true), Shape{1, 3}, {2.5, 3.5, 4.5});
  });
  tg::Generator gen(15);
  check_gradcheck([](const Inputs& in) { return tg::mean(in[0]); }, {randn64({2, 3}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::mean(in[0], {0, 2}); }, {randn64({2, 3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::mean(tg::transpose(in[0], 0, 1), {1}, true); },
             {randn64({3, 2}, gen)});
  const Tensor x = f32_grad({1, 2, 3, 4}, Shape{4});
  tg::mean(x).backward();
  check_values(x.grad(), Shape{4}, {0.25, 0.25, 0.25, 0.25});
  CHECK_THROWS_WITH_AS(tg::mean(tg::zeros({0, 3})), doctest::Contains("mean: of an empty tensor"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::mean(tg::zeros({2, 0}), {1}), doctest::Contains("mean: over empty axes"), tg::Error);
}

TEST_CASE("max: values, indices and ties") {
  on_both_backends([] {
    // Row 1 has a tie (7 at columns 0 and 2): the first index wins.
    const Tensor x = f32({1, 5, 3, 7, 2, 7}, Shape{2, 3});
    const tg::MaxResult rows = tg::max(x, 1);
    check_values(rows.values, Shape{2}, {5, 7});
    CHECK(rows.indices.dtype() == tg::DType::i64);
    CHECK(rows.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
    const tg::MaxResult cols = tg::max(x, 0, true);
    check_values(cols.values, Shape{1, 3}, {7, 5, 7});
    REQUIRE(cols.indices.shape() == Shape{1, 3});
    CHECK(cols.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
    const tg::MaxResult last = tg::max(x, -1, true);
    check_values(last.values, Shape{2, 1}, {5, 7});
    // Negative values and a transposed view.
    const tg::MaxResult t = tg::max(tg::transpose(f32({-3, -1, -2, -8, -4, -6}, Shape{2, 3}), 0, 1), 1);
    check_values(t.values, Shape{3}, {-3, -1, -2});
    CHECK(t.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  });
}

TEST_CASE("max: gradient goes to the first argmax only") {
  const Tensor x = f32_grad({1, 5, 3, 7, 2, 7}, Shape{2, 3});
  tg::sum(tg::max(x, 1).values * f32({1, 10}, Shape{2})).backward();
  check_values(x.grad(), Shape{2, 3}, {0, 1, 0, 10, 0, 0});

  const Tensor y = f32_grad({1, 5, 3, 7, 2, 7}, Shape{2, 3});
  tg::sum(tg::max(y, 0, true).values).backward();
  check_values(y.grad(), Shape{2, 3}, {0, 1, 0, 1, 0, 1});
}

TEST_CASE("max: gradcheck") {
  tg::Generator gen(16);
  check_gradcheck([](const Inputs& in) { return tg::max(in[0], 1).values; }, {randn64({3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::max(in[0], 0).values; }, {randn64({3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::max(in[0], 1, true).values; }, {randn64({2, 3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::max(in[0], -1).values; }, {randn64({2, 3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::max(tg::transpose(in[0], 0, 2), 1).values; },
             {randn64({2, 3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::max(in[0], 0).values; }, {randn64({5}, gen)});
}

TEST_CASE("max: errors") {
  CHECK_THROWS_WITH_AS(tg::max(tg::zeros({2, 3}), 2), doctest::Contains("max"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::max(tg::scalar(1.0), 0), doctest::Contains("max: needs a tensor with at least one dimension"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::max(tg::zeros({2, 0}), 1), doctest::Contains("max: over axis 1 of size 0 (shape (2, 0))"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::max(tg::index_tensor({1, 2}), 0), doctest::Contains("max: needs a float32 or float64"),
                       tg::Error);
}

// ---------------------------------------------------------------------------
// softmax

TEST_CASE("softmax and log_softmax: values") {
  on_both_backends([] {
    // Rows [0, ln 2, 0] and [ln 3, 0, 0]: e^x = [1, 2, 1] / 4 and [3, 1, 1] / 5.
    const Tensor x = f32({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{2, 3});
    const std::vector<double> p{0.25, 0.5, 0.25, 0.6, 0.2, 0.2};
    check_values(tg::softmax(x), Shape{2, 3}, p);
    check_values(tg::softmax(x, 1), Shape{2, 3}, p);
    std::vector<double> logp;
    for (double v : p) logp.push_back(std::log(v));
    check_values(tg::log_softmax(x, -1), Shape{2, 3}, logp);
    // The same along axis 0 of the transpose.
    const Tensor xt = tg::transpose(x, 0, 1);  // (3, 2)
    check_values(tg::softmax(xt, 0), Shape{3, 2}, {0.25, 0.6, 0.5, 0.2, 0.25, 0.2});
    check_values(tg::log_softmax(tg::transpose(x, 0, 1).contiguous(), 0), Shape{3, 2},
                 {logp[0], logp[3], logp[1], logp[4], logp[2], logp[5]});
    // Along the middle axis of a 3-D tensor: (1, 3, 2) from the columns above.
    check_values(tg::softmax(tg::reshape(xt.contiguous(), Shape{1, 3, 2}), 1), Shape{1, 3, 2},
                 {0.25, 0.6, 0.5, 0.2, 0.25, 0.2});
    // Large logits do not overflow: softmax subtracts the row maximum.
    check_values(tg::softmax(f32({1000, 1000, -1000}, Shape{3})), Shape{3}, {0.5, 0.5, 0});
    check_values(tg::log_softmax(f32({1000, 1000}, Shape{1, 2})), Shape{1, 2}, {-kLn2, -kLn2});
  });
}

TEST_CASE("softmax: gradient by hand") {
  // y = softmax([0, ln 2, 0]) = [1/4, 1/2, 1/4]; loss = y₁:
  //   dx_j = y₁([j = 1] - y_j) = [-1/8, 1/4, -1/8]
  const Tensor x = f32_grad({0, float(kLn2), 0}, Shape{3});
  tg::sum(tg::softmax(x) * f32({0, 1, 0}, Shape{3})).backward();
  check_values(x.grad(), Shape{3}, {-0.125, 0.25, -0.125});
  // log softmax, loss = logp₁: dx = onehot(1) - y = [-1/4, 1/2, -1/4]
  const Tensor z = f32_grad({0, float(kLn2), 0}, Shape{3});
  tg::sum(tg::log_softmax(z) * f32({0, 1, 0}, Shape{3})).backward();
  check_values(z.grad(), Shape{3}, {-0.25, 0.5, -0.25});
}

TEST_CASE("softmax and log_softmax: gradcheck") {
  tg::Generator gen(17);
  for (bool log : {false, true}) {
    CAPTURE(log);
    auto f = [log](int axis) {
      return [log, axis](const Inputs& in) { return log ? tg::log_softmax(in[0], axis) : tg::softmax(in[0], axis); };
    };
    check_gradcheck(f(-1), {randn64({3, 4}, gen)});
    check_gradcheck(f(0), {randn64({3, 4}, gen)});
    check_gradcheck(f(1), {randn64({2, 3, 4}, gen)});
    check_gradcheck(f(0), {randn64({5}, gen)});
    check_gradcheck(
        [log](const Inputs& in) {
          const Tensor xt = tg::transpose(in[0], 0, 1);
          return log ? tg::log_softmax(xt, -1) : tg::softmax(xt, -1);
        },
        {randn64({4, 3}, gen)});
    check_gradcheck(
        [log](const Inputs& in) {
          const Tensor xt = tg::transpose(in[0], 0, 2);
          return log ? tg::log_softmax(xt, 1) : tg::softmax(xt, 1);
        },
        {randn64({2, 3, 4}, gen)});
  }
}

TEST_CASE("softmax: errors") {
  CHECK_THROWS_WITH_AS(tg::softmax(tg::scalar(1.0)), doctest::Contains("softmax: needs a tensor with at least one"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::log_softmax(tg::zeros({2, 3}), 2), doctest::Contains("log_softmax"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::softmax(tg::index_tensor({1, 2})), doctest::Contains("softmax: needs a float32 or float64"),
                       tg::Error);
}

// ---------------------------------------------------------------------------
// losses

TEST_CASE("cross_entropy: values by hand") {
  on_both_backends([] {
    // Row 0: logits [0, ln 2, 0], target 1: logp₁ = ln 2 - ln 4, loss ln 2.
    // Row 1: logits [ln 3, 0, 0], target 0: logp₀ = ln 3 - ln 5, loss ln 5 - ln 3.
    const Tensor logits = f32({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{2, 3});
    const Tensor target = tg::index_tensor({1, 0});
    const double l0 = kLn2, l1 = std::log(5.0) - kLn3;
    check_values(tg::cross_entropy(logits, target), Shape{}, {(l0 + l1) / 2});
    check_values(tg::cross_entropy(logits, target, {.reduction = tg::Reduction::sum}), Shape{}, {l0 + l1});
    check_values(tg::cross_entropy(logits, target, {.reduction = tg::Reduction::none}), Shape{2}, {l0, l1});
    // A single row, the brief's example.
    check_values(tg::cross_entropy(f32({0, float(kLn2), 0}, Shape{1, 3}), tg::index_tensor({1})), Shape{}, {kLn2});
  });
}

TEST_CASE("cross_entropy: label smoothing by hand") {
  on_both_backends([] {
    // Row [0, ln 2, 0]: -logp = [ln 4, ln 2, ln 4], mean_c = 5 ln 2 / 3.
    // ε = 0.1, target 1: 0.9 · ln 2 + 0.1 · 5 ln 2 / 3 = (16/15) ln 2.
    // Row [ln 3, 0, 0]: -logp = [ln 5 - ln 3, ln 5, ln 5], mean_c = ln 5 - ln 3 / 3.
    // target 0: 0.9 (ln 5 - ln 3) + 0.1 (ln 5 - ln 3 / 3) = ln 5 - (28/30) ln 3.
    const Tensor logits = f32({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{2, 3});
    const double l0 = 16.0 / 15 * kLn2, l1 = std::log(5.0) - 28.0 / 30 * kLn3;
    const tg::CrossEntropyOptions smooth{.label_smoothing = 0.1, .reduction = tg::Reduction::none};
    check_values(tg::cross_entropy(logits, tg::index_tensor({1, 0}), smooth), Shape{2}, {l0, l1});
    check_values(tg::cross_entropy(logits, tg::index_tensor({1, 0}), {.label_smoothing = 0.1}), Shape{},
                 {(l0 + l1) / 2});
    // ε = 1: the mean of -logp over all classes, whatever the target.
    check_values(tg::cross_entropy(logits, tg::index_tensor({0, 2}), {.label_smoothing = 1.0}), Shape{},
                 {(5 * kLn2 / 3 + std::log(5.0) - kLn3 / 3) / 2});
  });
}

TEST_CASE("cross_entropy: ignore_index") {
  on_both_backends([] {
    const Tensor logits = f32({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{2, 3});
    // Row 1 ignored: the mean is over one target, so it is row 0's ln 2.
    check_values(tg::cross_entropy(logits, tg::index_tensor({1, -100})), Shape{}, {kLn2});
    check_values(tg::cross_entropy(logits, tg::index_tensor({1, -100}), {.reduction = tg::Reduction::none}),
                 Shape{2}, {kLn2, 0});
    // A custom ignore_index that is also a valid class; with smoothing the ignored row still adds nothing.
    check_values(tg::cross_entropy(logits, tg::index_tensor({1, 2}), {.ignore_index = 2}), Shape{}, {kLn2});
    check_values(tg::cross_entropy(logits, tg::index_tensor({2, 0}), {.ignore_index = 2, .label_smoothing = 0.1}),
                 Shape{}, {std::log(5.0) - 28.0 / 30 * kLn3});
    check_values(tg::cross_entropy(logits, tg::index_tensor({1, -100}), {.reduction = tg::Reduction::sum}), Shape{},
                 {kLn2});
  });
}

TEST_CASE("cross_entropy: every target ignored gives 0 (not NaN) and no gradient") {
  const Tensor logits = f32_grad({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{2, 3});
  const Tensor target = tg::index_tensor({-100, -100});
  const Tensor loss = tg::cross_entropy(logits, target, {.label_smoothing = 0.2});
  check_values(loss, Shape{}, {0});
  loss.backward();
  check_values(logits.grad(), Shape{2, 3}, {0, 0, 0, 0, 0, 0});
  check_values(tg::cross_entropy(logits, target, {.reduction = tg::Reduction::sum}), Shape{}, {0});
  check_values(tg::cross_entropy(logits, target, {.reduction = tg::Reduction::none}), Shape{2}, {0, 0});
}

TEST_CASE("cross_entropy: gradient by hand") {
  // dlogits = (softmax - onehot(t)) / (number of targets):
  //   row 0: ([1/4, 1/2, 1/4] - [0, 1, 0]) / 2,  row 1: ([3/5, 1/5, 1/5] - [1, 0, 0]) / 2
  const Tensor logits = f32_grad({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{2, 3});
  tg::cross_entropy(logits, tg::index_tensor({1, 0})).backward();
  check_values(logits.grad(), Shape{2, 3}, {0.125, -0.25, 0.125, -0.2, 0.1, 0.1});
  // With ε = 0.1 and row 1 ignored: row 0 = [1/4, 1/2, 1/4] - 0.9·[0, 1, 0] - 0.1/3, row 1 = 0.
  const Tensor z = f32_grad({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{2, 3});
  tg::cross_entropy(z, tg::index_tensor({1, -100}), {.label_smoothing = 0.1}).backward();
  const double s = 0.1 / 3;
  check_values(z.grad(), Shape{2, 3}, {0.25 - s, 0.5 - 0.9 - s, 0.25 - s, 0, 0, 0});
}

TEST_CASE("cross_entropy: (N, T, C) logits with (N, T) targets") {
  on_both_backends([] {
    const Tensor logits = f32({0, float(kLn2), 0, float(kLn3), 0, 0}, Shape{1, 2, 3});
    const Tensor target = tg::index_tensor({1, 0}, Shape{1, 2});
    const double l0 = kLn2, l1 = std::log(5.0) - kLn3;
    check_values(tg::cross_entropy(logits, target), Shape{}, {(l0 + l1) / 2});
    check_values(tg::cross_entropy(logits, target, {.reduction = tg::Reduction::none}), Shape{1, 2}, {l0, l1});
  });
}

TEST_CASE("cross_entropy: gradcheck") {
  tg::Generator gen(18);
  const Tensor target = tg::index_tensor({0, 4, -100, 2, 1, 3});
  for (double eps : {0.0, 0.1}) {
    for (tg::Reduction reduction : {tg::Reduction::mean, tg::Reduction::sum, tg::Reduction::none}) {
      CAPTURE(eps);
      CAPTURE(static_cast<int>(reduction));
      const tg::CrossEntropyOptions options{.label_smoothing = eps, .reduction = reduction};
      check_gradcheck([&](const Inputs& in) { return tg::cross_entropy(in[0], target, options); },
                 {randn64({6, 5}, gen)});
      // Transposed (non-contiguous) logits.
      check_gradcheck([&](const Inputs& in) { return tg::cross_entropy(tg::transpose(in[0], 0, 1), target, options); },
                 {randn64({5, 6}, gen)});
      // (N, T, C) = (2, 3, 5).
      const Tensor target3 = tg::index_tensor({0, 4, -100, 2, 1, 3}, Shape{2, 3});
      check_gradcheck([&](const Inputs& in) { return tg::cross_entropy(in[0], target3, options); },
                 {randn64({2, 3, 5}, gen)});
    }
  }
}

TEST_CASE("cross_entropy: errors") {
  const Tensor logits = tg::zeros({4, 10});
  CHECK_THROWS_WITH_AS(tg::cross_entropy(logits, tg::index_tensor({0, 1, 2, 3, 4})),
                       doctest::Contains("cross_entropy: logits (4, 10) and target (5,): batch sizes differ"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(tg::zeros({2, 3, 4}), tg::index_tensor({0, 1, 2, 3}, Shape{2, 2})),
                       doctest::Contains("sequence lengths differ"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(logits, tg::zeros({4})), doctest::Contains("target must hold int64"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(tg::zeros({10}), tg::index_tensor({1})),
                       doctest::Contains("logits must be (N, C) or (N, T, C), got (10,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(logits, tg::index_tensor({0, 1, 2, 3}, Shape{2, 2})),
                       doctest::Contains("need target of rank 1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(logits, tg::index_tensor({0, 1, 10, 3})),
                       doctest::Contains("target 10 at row 2 is out of range for 10 classes"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(logits, tg::index_tensor({0, -1, 2, 3})), doctest::Contains("out of range"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(logits, tg::index_tensor({0, 1, 2, 3}), {.label_smoothing = 1.5}),
                       doctest::Contains("label_smoothing must be in [0, 1], got 1.5"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::cross_entropy(tg::index_tensor({0, 1}, Shape{1, 2}), tg::index_tensor({0})),
                       doctest::Contains("cross_entropy: needs a float32 or float64"), tg::Error);
}

TEST_CASE("mse_loss: values, gradients and errors") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3, 4}, Shape{2, 2});
    const Tensor b = f32({1, 0, 0, 6}, Shape{2, 2});
    // (a - b)² = [0, 4, 9, 4]
    check_values(tg::mse_loss(a, b), Shape{}, {17.0 / 4});
    check_values(tg::mse_loss(a, b, tg::Reduction::sum), Shape{}, {17});
    check_values(tg::mse_loss(a, b, tg::Reduction::none), Shape{2, 2}, {0, 4, 9, 4});
  });
  // d mean((a-b)²)/da = 2(a - b)/n = [0, 1, 1.5, -1]
  const Tensor a = f32_grad({1, 2, 3, 4}, Shape{2, 2});
  const Tensor b = f32_grad({1, 0, 0, 6}, Shape{2, 2});
  tg::mse_loss(a, b).backward();
  check_values(a.grad(), Shape{2, 2}, {0, 1, 1.5, -1});
  check_values(b.grad(), Shape{2, 2}, {0, -1, -1.5, 1});

  tg::Generator gen(19);
  for (tg::Reduction reduction : {tg::Reduction::mean, tg::Reduction::sum, tg::Reduction::none}) {
    check_gradcheck([reduction](const Inputs& in) { return tg::mse_loss(in[0], in[1], reduction); },
               {randn64({3, 4}, gen), randn64({3, 4}, gen)});
  }
  check_gradcheck([](const Inputs& in) { return tg::mse_loss(tg::transpose(in[0], 0, 1), in[1]); },
             {randn64({4, 3}, gen), randn64({3, 4}, gen)});

  CHECK_THROWS_WITH_AS(tg::mse_loss(tg::zeros({3, 2}), tg::zeros({2, 3})),
                       doctest::Contains("mse_loss: input (3, 2) and target (2, 3): shapes differ; they do not broadcast either"),
                       tg::Error);
  // The trap PyTorch falls into with a warning: (100, 1) against (100,) would become (100, 100).
  CHECK_THROWS_WITH_AS(tg::mse_loss(tg::zeros({100, 1}), tg::zeros({100})),
                       doctest::Contains("PyTorch would broadcast them to (100, 100) (with a warning)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::mse_loss(tg::zeros({2}), tg::zeros({2}, {tg::DType::f64})),
                       doctest::Contains("mse_loss: dtypes differ"), tg::Error);
}

// ---------------------------------------------------------------------------
// matmul

TEST_CASE("matmul: values") {
  on_both_backends([] {
    // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
    const Tensor a = f32({1, 2, 3, 4}, Shape{2, 2});
    const Tensor b = f32({5, 6, 7, 8}, Shape{2, 2});
    check_values(tg::matmul(a, b), Shape{2, 2}, {19, 22, 43, 50});
    // (2, 3) @ (3, 1)
    check_values(tg::matmul(f32({1, 2, 3, 4, 5, 6}, Shape{2, 3}), f32({1, 0, -1}, Shape{3, 1})), Shape{2, 1},
                 {-2, -2});
    // Transposed views: aᵀ = [[1, 3], [2, 4]], bᵀ = [[5, 7], [6, 8]]
    check_values(tg::matmul(tg::transpose(a, 0, 1), b), Shape{2, 2}, {26, 30, 38, 44});
    check_values(tg::matmul(a, tg::transpose(b, 0, 1)), Shape{2, 2}, {17, 23, 39, 53});
    // Batched (2, 2, 2) @ (2, 2, 2): batch 0 as above, batch 1 the identity times b.
    const Tensor a3 = f32({1, 2, 3, 4, 1, 0, 0, 1}, Shape{2, 2, 2});
    const Tensor b3 = f32({5, 6, 7, 8, 5, 6, 7, 8}, Shape{2, 2, 2});
    check_values(tg::matmul(a3, b3), Shape{2, 2, 2}, {19, 22, 43, 50, 5, 6, 7, 8});
    // (B, M, K) @ (K, N): b shared by both batches.
    check_values(tg::matmul(a3, b), Shape{2, 2, 2}, {19, 22, 43, 50, 5, 6, 7, 8});
    // (M, K) @ (B, K, N): a shared; batch 1 of the right side is 2·I.
    const Tensor right = f32({5, 6, 7, 8, 2, 0, 0, 2}, Shape{2, 2, 2});
    check_values(tg::matmul(a, right), Shape{2, 2, 2}, {19, 22, 43, 50, 2, 4, 6, 8});
    // Batch broadcast (2, 1, M, K) @ (2, K, N) -> (2, 2, M, N).
    const Tensor a4 = tg::reshape(a3, Shape{2, 1, 2, 2});
    check_values(tg::matmul(a4, right), Shape{2, 2, 2, 2},
                 {19, 22, 43, 50, 2, 4, 6, 8, 5, 6, 7, 8, 2, 0, 0, 2});
  });
}

TEST_CASE("matmul: gradients") {
  tg::Generator gen(20);
  auto mm = [](const Inputs& in) { return tg::matmul(in[0], in[1]); };
  check_gradcheck(mm, {randn64({3, 4}, gen), randn64({4, 2}, gen)});
  check_gradcheck(mm, {randn64({2, 3, 4}, gen), randn64({2, 4, 5}, gen)});
  check_gradcheck(mm, {randn64({2, 3, 4}, gen), randn64({4, 5}, gen)});   // (B, M, K) @ (K, N)
  check_gradcheck(mm, {randn64({3, 4}, gen), randn64({2, 4, 5}, gen)});   // (M, K) @ (B, K, N)
  check_gradcheck(mm, {randn64({2, 1, 3, 4}, gen), randn64({3, 4, 2}, gen)});  // batch broadcast
  check_gradcheck(mm, {randn64({1, 3, 4}, gen), randn64({2, 4, 2}, gen)});
  // Transposed views on either side, and a non-contiguous batched left operand.
  check_gradcheck([](const Inputs& in) { return tg::matmul(tg::transpose(in[0], 0, 1), in[1]); },
             {randn64({4, 3}, gen), randn64({4, 2}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::matmul(in[0], tg::transpose(in[1], 0, 1)); },
             {randn64({3, 4}, gen), randn64({2, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::matmul(tg::transpose(in[0], 1, 2), in[1]); },
             {randn64({2, 4, 3}, gen), randn64({4, 2}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::matmul(tg::transpose(in[0], 0, 1), tg::transpose(in[1], 1, 2)); },
             {randn64({3, 2, 4}, gen), randn64({2, 5, 4}, gen)});
  // The same tensor on both sides: x @ x.
  check_gradcheck([](const Inputs& in) { return tg::matmul(in[0], in[0]); }, {randn64({3, 3}, gen)});
}

// ---------------------------------------------------------------------------
// linear: x @ wᵀ + b in one node, w (out, in) as F.linear's

TEST_CASE("linear: values equal x @ wᵀ plus bias (F.linear), on (M, K) and (..., K) inputs") {
  on_both_backends([] {
    // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]]ᵀ + [10, 20] = [[27, 43], [49, 73]]
    const Tensor x = f32({1, 2, 3, 4}, Shape{2, 2});
    const Tensor w = f32({5, 6, 7, 8}, Shape{2, 2});
    const Tensor b = f32({10, 20}, Shape{2});
    check_values(tg::linear(x, w, b), Shape{2, 2}, {27, 43, 49, 73});
    check_values(tg::linear(x, w), Shape{2, 2}, {17, 23, 39, 53});  // no bias
    // (2, 1, 2) input, transposed w: w = [[5, 7], [6, 8]]
    check_values(tg::linear(tg::reshape(x, Shape{2, 1, 2}), tg::transpose(w, 0, 1), b), Shape{2, 1, 2},
                 {29, 42, 53, 70});
    // The square case a user of F.linear meets: [1, 1] @ [[1, 0], [1, 2]]ᵀ = [1, 3] (not [2, 2]).
    check_values(tg::linear(f32({1, 1}, Shape{1, 2}), f32({1, 0, 1, 2}, Shape{2, 2})), Shape{1, 2}, {1, 3});
  });
}

TEST_CASE("linear: gradients") {
  tg::Generator gen(21);
  auto lin = [](const Inputs& in) { return tg::linear(in[0], in[1], in[2]); };
  check_gradcheck(lin, {randn64({3, 4}, gen), randn64({2, 4}, gen), randn64({2}, gen)});
  check_gradcheck(lin, {randn64({2, 3, 4}, gen), randn64({5, 4}, gen), randn64({5}, gen)});
  check_gradcheck(lin, {randn64({2, 3, 4}, gen), randn64({5, 4}, gen), randn64({3, 5}, gen)});  // a (B, N) base
  check_gradcheck([](const Inputs& in) { return tg::linear(in[0], in[1]); }, {randn64({3, 4}, gen), randn64({2, 4}, gen)});
  // A transposed weight view and a non-contiguous input, as Linear and InputParts pass them.
  check_gradcheck([](const Inputs& in) { return tg::linear(tg::transpose(in[0], 0, 1), tg::transpose(in[1], 0, 1), in[2]); },
                  {randn64({4, 3}, gen), randn64({4, 2}, gen), randn64({2}, gen)});
}

TEST_CASE("linear: errors") {
  CHECK_THROWS_WITH_AS(tg::linear(tg::zeros({3, 4}), tg::zeros({4, 6}), tg::zeros({6})),
                       doctest::Contains("linear: x (3, 4) against w (4, 6): w must be (out_features, in_features) = (N, 4)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::linear(tg::zeros({3, 4}), tg::zeros({6, 4}), tg::zeros({3, 1, 6})),
                       doctest::Contains("b (3, 1, 6) does not broadcast to the output (3, 6)"), tg::Error);
}

TEST_CASE("matmul: errors") {
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({3, 4}), tg::zeros({5, 6})),
                       doctest::Contains("inner dimensions 4 and 5 differ"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({3, 4}), tg::zeros({5, 6})),
                       doctest::Contains("matmul: (3, 4) @ (5, 6)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::matmul(tg::scalar(2.0f), tg::zeros({4, 2})), doctest::Contains("at least 1 dimension"),
                       tg::Error);  // 1-D operands follow torch.matmul (tests/test_dtype_rules.cpp)
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({2, 3, 4}), tg::zeros({3, 4, 5})), doctest::Contains("do not broadcast"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({3, 4}), tg::zeros({4, 5}, {tg::DType::f64})),
                       doctest::Contains("matmul: dtypes differ"), tg::Error);
}

// ---------------------------------------------------------------------------
// abs, clamp, log1p, softplus, gelu (composed from the elementwise kernels)

TEST_CASE("abs: values and gradient") {
  on_both_backends([] { check_values(tg::abs(f32({-2, 0, 1.5}, Shape{3})), Shape{3}, {2, 0, 1.5}); });
  const Tensor x = f32_grad({-2, 0, 1.5}, Shape{3});
  tg::sum(tg::abs(x)).backward();
  check_values(x.grad(), Shape{3}, {-1, 0, 1});
  tg::Generator gen(31);
  check_gradcheck([](const Inputs& in) { return tg::abs(in[0]); }, {randn64({3, 4}, gen)});
  // int64: exact and int64, as PyTorch's; |INT64_MIN| does not fit, and bool has no abs.
  const Tensor ints = tg::abs(tg::index_tensor({-3, 0, 7}));
  CHECK(ints.dtype() == tg::DType::i64);
  CHECK(ints.to_vector<int64_t>() == std::vector<int64_t>{3, 0, 7});
  CHECK_THROWS_WITH_AS(tg::abs(tg::index_tensor({INT64_MIN})), doctest::Contains("abs: int64 overflow"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::abs(tg::index_tensor({1}).to(tg::DType::boolean)), doctest::Contains("abs"), tg::Error);
}

TEST_CASE("erf: values from tables, odd, gradient 2/sqrt(pi) e^(-x^2)") {
  // erf(0.5), erf(1), erf(2) to 16 digits (Abramowitz & Stegun table 7.1).
  on_both_backends([] {
    check_values(tg::erf(tg::tensor({0.0, 0.5, 1.0, 2.0, -1.0}, Shape{5}, {.dtype = tg::DType::f64})), Shape{5},
                 {0, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.8427007929497149}, 1e-15);
    check_values(tg::erf(f32({1, -1}, Shape{2})), Shape{2}, {0.8427007929497149, -0.8427007929497149}, 1e-6);
  });
  const Tensor x = f32_grad({0}, Shape{1});
  tg::sum(tg::erf(x)).backward();
  check_values(x.grad(), Shape{1}, {1.1283791670955126}, 1e-6);  // 2/√π
  tg::Generator gen(37);
  check_gradcheck([](const Inputs& in) { return tg::erf(in[0]); }, {randn64({3, 4}, gen)});
  CHECK_THROWS_WITH_AS(tg::erf(tg::index_tensor({1})), doctest::Contains("erf: needs a float32 or float64"), tg::Error);
}

TEST_CASE("clamp: values, optional bounds, gradient 1 inside and on a bound, 0 outside") {
  on_both_backends([] {
    const Tensor x = f32({-2, -0.5, 0.5, 2}, Shape{2, 2});
    check_values(tg::clamp(x, -1.0, 1.0), Shape{2, 2}, {-1, -0.5, 0.5, 1});
    check_values(tg::clamp(x, std::nullopt, 0.0), Shape{2, 2}, {-2, -0.5, 0, 0});
    check_values(tg::clamp(x, 0.0, std::nullopt), Shape{2, 2}, {0, 0, 0.5, 2});
    check_values(tg::clamp(x, std::nullopt, std::nullopt), Shape{2, 2}, {-2, -0.5, 0.5, 2});
  });
  const Tensor x = f32_grad({-2, -1, -0.5, 0.5, 1, 2}, Shape{6});
  tg::sum(tg::clamp(x, -1.0, 1.0)).backward();
  check_values(x.grad(), Shape{6}, {0, 1, 1, 1, 1, 0});
  tg::Generator gen(32);
  check_gradcheck([](const Inputs& in) { return tg::clamp(in[0], -0.7, 0.9); }, {randn64({4, 5}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::clamp(in[0], std::nullopt, 0.3); }, {randn64({7}, gen)});
  CHECK_THROWS_WITH_AS(tg::clamp(tg::zeros({2, 3}), 1.0, -1.0),
                       doctest::Contains("clamp: min 1 is above max -1 (x (2, 3))"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::clamp(tg::index_tensor({1}), 0.0, 1.0), doctest::Contains("clamp"), tg::Error);
}

TEST_CASE("log1p: values (small x kept accurate) and gradient") {
  on_both_backends([] {
    check_values(tg::log1p(f32({0, 1, 3}, Shape{3})), Shape{3}, {0, kLn2, std::log(4.0)});
    const Tensor tiny = tg::log1p(tg::tensor({1e-10, -1e-12, 1e-300}, Shape{3}, {.dtype = tg::DType::f64}));
    CHECK(tiny.at({0}) == doctest::Approx(std::log1p(1e-10)).epsilon(1e-14));
    CHECK(tiny.at({1}) == doctest::Approx(std::log1p(-1e-12)).epsilon(1e-14));
    CHECK(tiny.at({2}) == 1e-300);
    CHECK(std::isinf(tg::log1p(tg::tensor({-1.0}, Shape{1}, {.dtype = tg::DType::f64})).at({0})));
  });
  const Tensor x = f32_grad({0, 1, 3}, Shape{3});
  tg::sum(tg::log1p(x)).backward();
  check_values(x.grad(), Shape{3}, {1, 0.5, 0.25});
  tg::Generator gen(33);
  check_gradcheck([](const Inputs& in) { return tg::log1p(in[0]); }, {positive64({3, 4}, gen)});
}

TEST_CASE("softplus: values, beta, threshold and gradient") {
  on_both_backends([] {
    const double e = std::exp(1.0);
    check_values(tg::softplus(tg::tensor({0.0, 1.0, -1.0, 30.0, -50.0}, Shape{5}, {.dtype = tg::DType::f64})), Shape{5},
                 {kLn2, std::log(1 + e), std::log(1 + 1 / e), 30, std::exp(-50.0)}, 1e-12);
    // beta = 2: log(1 + e^(2x)) / 2; threshold 3: x where 2x > 3.
    check_values(tg::softplus(tg::tensor({0.0, 1.0, 2.0}, Shape{3}, {.dtype = tg::DType::f64}), 2, 3), Shape{3},
                 {kLn2 / 2, std::log(1 + e * e) / 2, 2}, 1e-12);
  });
  const Tensor x = f32_grad({0, 25}, Shape{2});
  tg::sum(tg::softplus(x)).backward();
  check_values(x.grad(), Shape{2}, {0.5, 1});  // σ(0), and 1 above the threshold
  tg::Generator gen(34);
  check_gradcheck([](const Inputs& in) { return tg::softplus(in[0]); }, {randn64({3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::softplus(in[0], 3, 2); }, {randn64({10}, gen)});
  CHECK_THROWS_WITH_AS(tg::softplus(tg::zeros({2}), 0), doctest::Contains("softplus: beta must be nonzero"), tg::Error);
}

TEST_CASE("gelu: exact (erf) and tanh forms, values and gradient") {
  const std::vector<double> xs = {0, 1, -1, 2, -3, 0.25};
  std::vector<double> exact, approx;
  for (double x : xs) {
    exact.push_back(x * 0.5 * (1 + std::erf(x / std::sqrt(2.0))));
    approx.push_back(0.5 * x * (1 + std::tanh(std::sqrt(2 / std::acos(-1.0)) * (x + 0.044715 * x * x * x))));
  }
  CHECK(exact[1] == doctest::Approx(0.8413447460685429));  // Φ(1), from tables
  on_both_backends([&] {
    const Tensor x = tg::tensor(xs, Shape{6});
    const std::vector<double> got = tg::gelu(x).to_vector<double>();
    for (size_t i = 0; i < xs.size(); ++i) CHECK(std::abs(got[i] - exact[i]) <= 1e-15 * std::abs(exact[i]));
    check_values(tg::gelu(x, tg::GeluApproximation::tanh), Shape{6}, approx, 1e-12);
    check_values(tg::gelu(f32({1, -1}, Shape{2})), Shape{2}, {exact[1], exact[2]}, 1e-5);
  });
  // dgelu/dx at 0 is Φ(0) = 1/2 for both forms.
  const Tensor x = f32_grad({0}, Shape{1});
  tg::sum(tg::gelu(x) + tg::gelu(x, tg::GeluApproximation::tanh)).backward();
  check_values(x.grad(), Shape{1}, {1});
  tg::Generator gen(35);
  check_gradcheck([](const Inputs& in) { return tg::gelu(in[0]); }, {randn64({4, 5}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::gelu(in[0], tg::GeluApproximation::tanh); }, {randn64({4, 5}, gen)});
  CHECK_THROWS_WITH_AS(tg::gelu(tg::index_tensor({1})), doctest::Contains("gelu"), tg::Error);
}

// ---------------------------------------------------------------------------
// min, argmax, argmin

TEST_CASE("min: values, indices, ties and gradient") {
  on_both_backends([] {
    // Row 1 has a tie (2 at columns 1 and 2): the first index wins.
    const Tensor x = f32({1, 5, 3, 7, 2, 2}, Shape{2, 3});
    const tg::MinResult rows = tg::min(x, 1);
    check_values(rows.values, Shape{2}, {1, 2});
    CHECK(rows.indices.dtype() == tg::DType::i64);
    CHECK(rows.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 1});
    const tg::MinResult cols = tg::min(x, 0, true);
    check_values(cols.values, Shape{1, 3}, {1, 2, 2});
    CHECK(cols.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 1});
  });
  const Tensor x = f32_grad({1, 5, 3, 7, 2, 2}, Shape{2, 3});
  tg::sum(tg::min(x, 1).values * f32({1, 10}, Shape{2})).backward();
  check_values(x.grad(), Shape{2, 3}, {1, 0, 0, 0, 10, 0});
  tg::Generator gen(36);
  check_gradcheck([](const Inputs& in) { return tg::min(in[0], 1).values; }, {randn64({3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::min(in[0], 0, true).values; }, {randn64({2, 3, 4}, gen)});
  check_gradcheck([](const Inputs& in) { return tg::min(tg::transpose(in[0], 0, 2), -1).values; }, {randn64({2, 3, 4}, gen)});
  CHECK_THROWS_WITH_AS(tg::min(tg::scalar(1.0), 0), doctest::Contains("min: needs a tensor with at least one dimension"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::min(tg::zeros({2, 0}), 1), doctest::Contains("min: over axis 1 of size 0 (shape (2, 0))"),
                       tg::Error);
}

TEST_CASE("argmax and argmin: first index, keepdim, int64 input, not recorded") {
  on_both_backends([] {
    const Tensor x = f32({1, 5, 3, 7, 2, 7}, Shape{2, 3});
    const Tensor am = tg::argmax(x, 1);
    CHECK(am.dtype() == tg::DType::i64);
    REQUIRE(am.shape() == Shape{2});
    CHECK(am.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
    CHECK(tg::argmin(x, 1).to_vector<int64_t>() == std::vector<int64_t>{0, 1});
    const Tensor kept = tg::argmax(x, 0, true);
    REQUIRE(kept.shape() == Shape{1, 3});
    CHECK(kept.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
    CHECK(tg::argmin(x, -2).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0});
    CHECK(tg::argmax(tg::index_tensor({4, 9, 9, -1}), 0).to_vector<int64_t>() == std::vector<int64_t>{1});
  });
  const Tensor x = f32_grad({1, 2}, Shape{2});
  CHECK_FALSE(tg::argmax(x, 0).requires_grad());
  CHECK_THROWS_WITH_AS(tg::argmax(tg::zeros({2}), 1), doctest::Contains("argmax"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::argmin(tg::zeros({0}), 0), doctest::Contains("argmin: over axis 0 of size 0 (shape (0,))"),
                       tg::Error);
}
