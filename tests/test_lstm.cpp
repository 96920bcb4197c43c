// LSTMCell: forward values and gradients against PyTorch fixtures
// (tests/fixtures/make_recurrent_fixtures.py: nn.LSTMCell), a hand-worked step,
// float64 gradient checks and the error messages. The LSTM network shares
// its cases with the GRU: test_recurrent_networks.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tapegrad_kernels.h"
#include "test_support.h"

namespace {

using test_support::check_gradcheck;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::nn::LSTMCell;
using tg::nn::LSTMState;
using Inputs = std::vector<Tensor>;

using test_support::Fixture;
using test_support::fixture_tensor;
using test_support::load_fixture;
using test_support::load_recurrent_parameters;
using test_support::check_close;
using test_support::check_same;

// ---------------------------------------------------------------------------
// LSTMCell

TEST_CASE("LSTMCell: parameters have PyTorch's names, shapes and init bound") {
  tg::Generator gen(3);
  LSTMCell cell(5, 7, gen);  // float32 with a generator, no dtype spelled out
  const auto params = cell.named_parameters();
  REQUIRE(params.size() == 4);
  const std::vector<std::pair<std::string, Shape>> expected = {
      {"weight_ih", Shape{28, 5}}, {"weight_hh", Shape{28, 7}}, {"bias_ih", Shape{28}}, {"bias_hh", Shape{28}}};
  const double bound = 1 / std::sqrt(7.0);
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(params[i].first == expected[i].first);
    CHECK(params[i].second.shape() == expected[i].second);
    CHECK(params[i].second.dtype() == DType::f32);
    double largest = 0;
    for (double v : params[i].second.to_vector<double>()) largest = std::max(largest, std::abs(v));
    CHECK(largest <= bound);
    CHECK(largest > 0.5 * bound);  // spread over the range, not a constant
  }
  LSTMCell no_bias(5, 7, {.bias = false});
  CHECK(no_bias.named_parameters().size() == 2);
  CHECK(!no_bias.bias_ih.defined());
  CHECK(cell.parameter_count() == 28 * 5 + 28 * 7 + 2 * 28);
  // the same generator seed gives the same parameters
  tg::Generator again(3);
  check_same(LSTMCell(5, 7, again).weight_hh, cell.weight_hh);
}

TEST_CASE("LSTMCell: values and gradients match PyTorch") {
  const Fixture fixture = load_fixture("lstm_cell.txt");
  SUBCASE("float64, with gradients") {
    LSTMCell cell(3, 4, {.dtype = DType::f64});
    load_recurrent_parameters(cell, fixture);
    const Tensor x = fixture_tensor(fixture, "x", DType::f64, true);
    const Tensor h = fixture_tensor(fixture, "h", DType::f64, true);
    const Tensor c = fixture_tensor(fixture, "c", DType::f64, true);
    const LSTMState next = cell(x, {h, c});
    check_close(next.h, fixture, "h_next", 1e-10);
    check_close(next.c, fixture, "c_next", 1e-10);
    (tg::sum(next.h * fixture_tensor(fixture, "loss_h", DType::f64)) +
     tg::sum(next.c * fixture_tensor(fixture, "loss_c", DType::f64)))
        .backward();
    check_close(x.grad(), fixture, "grad.x", 1e-10);
    check_close(h.grad(), fixture, "grad.h", 1e-10);
    check_close(c.grad(), fixture, "grad.c", 1e-10);
    for (const auto& [name, p] : cell.named_parameters()) check_close(p.grad(), fixture, "grad." + name, 1e-10);
  }
  SUBCASE("float32") {
    LSTMCell cell(3, 4, {.dtype = DType::f32});
    load_recurrent_parameters(cell, fixture);
    const LSTMState next = cell(fixture_tensor(fixture, "x", DType::f32),
                                {fixture_tensor(fixture, "h", DType::f32), fixture_tensor(fixture, "c", DType::f32)});
    CHECK(next.h.dtype() == DType::f32);
    check_close(next.h, fixture, "h_next", 1e-5);
    check_close(next.c, fixture, "c_next", 1e-5);
  }
}

TEST_CASE("LSTMCell: a hand-worked step") {
  // I = H = 1, w_ih = (a_i, a_f, a_g, a_o), w_hh = (u_i, u_f, u_g, u_o), no bias:
  //   i = σ(a_i x + u_i h), f = σ(a_f x + u_f h), g = tanh(a_g x + u_g h), o = σ(a_o x + u_o h)
  //   c' = f c + i g,  h' = o tanh(c')
  LSTMCell cell(1, 1, {.bias = false, .dtype = DType::f64});
  tg::compute::copy_into(tg::tensor({0.5, -1.0, 2.0, 0.3}, {4, 1}, {.dtype = tg::DType::f64}), cell.weight_ih);
  tg::compute::copy_into(tg::tensor({1.5, 0.25, -0.75, -0.4}, {4, 1}, {.dtype = tg::DType::f64}), cell.weight_hh);
  const double x = 0.8, h = -0.6, c = 0.9;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double i = sig(0.5 * x + 1.5 * h), f = sig(-1.0 * x + 0.25 * h);
  const double g = std::tanh(2.0 * x - 0.75 * h), o = sig(0.3 * x - 0.4 * h);
  const double c_next = f * c + i * g, h_next = o * std::tanh(c_next);
  const tg::TensorOptions f64{.dtype = DType::f64};
  const LSTMState out = cell(tg::tensor({x}, {1, 1}, f64), {tg::tensor({h}, {1, 1}, f64), tg::tensor({c}, {1, 1}, f64)});
  CHECK(out.c.item() == doctest::Approx(c_next).epsilon(1e-12));
  CHECK(out.h.item() == doctest::Approx(h_next).epsilon(1e-12));
}

TEST_CASE("LSTMCell: input_projection + step equals forward") {
  tg::Generator gen(4);
  LSTMCell cell(3, 5, {.dtype = DType::f64}, gen);
  const Tensor x = tg::randn({2, 3}, {DType::f64}, gen);
  const LSTMState state{tg::randn({2, 5}, {DType::f64}, gen), tg::randn({2, 5}, {DType::f64}, gen)};
  const Tensor gi = cell.input_projection(x);
  CHECK(gi.shape() == Shape{2, 20});
  const LSTMState a = cell.step(gi, state), b = cell(x, state);
  check_same(a.h, b.h);
  check_same(a.c, b.c);
  const LSTMState direct = tg::nn::lstm_step(gi, state, tg::transpose(cell.weight_hh, 0, 1), cell.bias_hh);
  check_same(direct.h, b.h);
  check_same(direct.c, b.c);
  // The gate arithmetic alone, from gates a caller computed (int8 decoding does its own products).
  const Tensor gates = gi + tg::matmul(state.h, tg::transpose(cell.weight_hh, 0, 1)) + cell.bias_hh;
  const LSTMState from_gates = tg::nn::lstm_gates(gates, state.c);
  check_same(from_gates.h, b.h);
  check_same(from_gates.c, b.c);
  CHECK_THROWS_WITH_AS(tg::nn::lstm_gates(tg::slice(gates, 1, 0, 19), state.c),
                       "lstm_gates: gates must be (B, 4H) for c (B, H), got gates (2, 19) and c (2, 5)", tg::Error);
}

TEST_CASE("LSTMCell: float64 gradient check over inputs, both states and parameters") {
  for (const bool bias : {true, false}) {
    INFO("bias " << bias);
    tg::Generator gen(5);
    LSTMCell cell(3, 2, {.bias = bias, .dtype = DType::f64}, gen);
    const Tensor x = tg::randn({2, 3}, {DType::f64}, gen).requires_grad_();
    const Tensor h = tg::randn({2, 2}, {DType::f64}, gen).requires_grad_();
    const Tensor c = tg::randn({2, 2}, {DType::f64}, gen).requires_grad_();
    Inputs inputs{x, h, c};
    for (const Tensor& p : cell.parameters()) inputs.push_back(p);
    check_gradcheck(tg::gradcheck(
        [&](const Inputs& in) {
          const LSTMState next = cell(in[0], {in[1], in[2]});
          return tg::concat({tg::flatten(next.h), tg::flatten(next.c)}, 0);
        },
        inputs));
  }
}

TEST_CASE("LSTMCell: errors name what was expected and what was got") {
  LSTMCell cell(3, 4);
  const Tensor x = tg::zeros({2, 3}), h = tg::zeros({2, 4}), c = tg::zeros({2, 4});
  CHECK_THROWS_WITH_AS(cell(tg::zeros({2, 5}), {h, c}), doctest::Contains("input_size = 3, got (2, 5)"), tg::Error);
  CHECK_THROWS_WITH_AS(cell(tg::zeros({2, 1, 3}), {h, c}), doctest::Contains("(B, I)"), tg::Error);
  CHECK_THROWS_WITH_AS(cell(x, {tg::zeros({3, 4}), c}), doctest::Contains("h must be (B, H) = (2, 4), got (3, 4)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(cell(x, {h, tg::zeros({2, 5})}), doctest::Contains("c must be (B, H) = (2, 4), got (2, 5)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(cell(x, {h, Tensor()}), doctest::Contains("argument 'c' is an undefined tensor"), tg::Error);
  CHECK_THROWS_WITH_AS(LSTMCell(0, 4), doctest::Contains("input_size=0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nn::lstm_step(tg::zeros({2, 15}), {h, c}, tg::zeros({4, 16}), Tensor()),
                       doctest::Contains("gi must be (B, 4H) = (2, 16), got (2, 15)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nn::lstm_step(tg::zeros({2, 16}), {h, c}, tg::zeros({4, 12}), Tensor()),
                       doctest::Contains("(H, 4H), got (4, 12)"), tg::Error);
}

}  // namespace
