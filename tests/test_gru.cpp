// GRUCell and the fused gate op: forward values and gradients against
// PyTorch fixtures (tests/fixtures/make_recurrent_fixtures.py: nn.GRUCell), a
// hand-worked step, float64 gradient checks and the error messages; gru_gates
// against the same equations composed from ops, on both host backends. The
// GRU network shares its cases with the LSTM: test_recurrent_networks.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "tapegrad_kernels.h"
#include "test_support.h"

namespace {

using test_support::check_gradcheck;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::nn::GRUCell;
using Inputs = std::vector<Tensor>;

using test_support::Fixture;
using test_support::fixture_tensor;
using test_support::load_fixture;
using test_support::load_recurrent_parameters;
using test_support::check_close;
using test_support::check_same;

// ---------------------------------------------------------------------------
// GRUCell

TEST_CASE("GRUCell: parameters have PyTorch's names, shapes and init bound") {
  tg::Generator gen(3);
  GRUCell cell(5, 7, {.dtype = DType::f32}, gen);
  const auto params = cell.named_parameters();
  REQUIRE(params.size() == 4);
  CHECK(params[0].first == "weight_ih");
  CHECK(params[0].second.shape() == Shape{21, 5});
  CHECK(params[1].first == "weight_hh");
  CHECK(params[1].second.shape() == Shape{21, 7});
  CHECK(params[2].first == "bias_ih");
  CHECK(params[2].second.shape() == Shape{21});
  CHECK(params[3].first == "bias_hh");
  CHECK(params[3].second.shape() == Shape{21});
  const double bound = 1 / std::sqrt(7.0);
  for (const auto& [name, p] : params) {
    double largest = 0;
    for (double v : p.to_vector<double>()) largest = std::max(largest, std::abs(v));
    CHECK(largest <= bound);
    CHECK(largest > 0.5 * bound);  // spread over the range, not a constant
  }
  GRUCell no_bias(5, 7, {.bias = false});
  CHECK(no_bias.named_parameters().size() == 2);
  CHECK(!no_bias.bias_ih.defined());
  CHECK(cell.parameter_count() == 21 * 5 + 21 * 7 + 2 * 21);
}

TEST_CASE("GRUCell: values and gradients match PyTorch") {
  const Fixture fixture = load_fixture("gru_cell.txt");
  SUBCASE("float64, with gradients") {
    GRUCell cell(3, 4, {.dtype = DType::f64});
    load_recurrent_parameters(cell, fixture);
    const Tensor x = fixture_tensor(fixture, "x", DType::f64, true);
    const Tensor h = fixture_tensor(fixture, "h", DType::f64, true);
    const Tensor h_next = cell(x, h);
    check_close(h_next, fixture, "h_next", 1e-10);
    tg::sum(h_next * fixture_tensor(fixture, "loss_h", DType::f64)).backward();
    check_close(x.grad(), fixture, "grad.x", 1e-10);
    check_close(h.grad(), fixture, "grad.h", 1e-10);
    for (const auto& [name, p] : cell.named_parameters()) check_close(p.grad(), fixture, "grad." + name, 1e-10);
  }
  SUBCASE("float32") {
    GRUCell cell(3, 4, {.dtype = DType::f32});
    load_recurrent_parameters(cell, fixture);
    const Tensor h_next = cell(fixture_tensor(fixture, "x", DType::f32), fixture_tensor(fixture, "h", DType::f32));
    CHECK(h_next.dtype() == DType::f32);
    check_close(h_next, fixture, "h_next", 1e-5);
  }
}

TEST_CASE("GRUCell: a hand-worked step") {
  // I = H = 1, weights w_ih = (a_r, a_z, a_n), w_hh = (c_r, c_z, c_n), no bias:
  //   r = σ(a_r x + c_r h), z = σ(a_z x + c_z h), n = tanh(a_n x + r c_n h), h' = (1-z) n + z h
  GRUCell cell(1, 1, {.bias = false, .dtype = DType::f64});
  tg::compute::copy_into(tg::tensor({0.5, -1.0, 2.0}, {3, 1}, {.dtype = tg::DType::f64}), cell.weight_ih);
  tg::compute::copy_into(tg::tensor({1.5, 0.25, -0.75}, {3, 1}, {.dtype = tg::DType::f64}), cell.weight_hh);
  const double x = 0.8, h = -0.6;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double r = sig(0.5 * x + 1.5 * h), z = sig(-1.0 * x + 0.25 * h);
  const double n = std::tanh(2.0 * x + r * (-0.75 * h));
  const double expected = (1 - z) * n + z * h;
  const Tensor out = cell(tg::tensor({x}, {1, 1}, {.dtype = DType::f64}), tg::tensor({h}, {1, 1}, {.dtype = DType::f64}));
  CHECK(out.item() == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("GRUCell: input_projection + step equals forward") {
  tg::Generator gen(4);
  GRUCell cell(3, 5, {.dtype = DType::f64}, gen);
  const Tensor x = tg::randn({2, 3}, {DType::f64}, gen), h = tg::randn({2, 5}, {DType::f64}, gen);
  const Tensor gi = cell.input_projection(x);
  CHECK(gi.shape() == Shape{2, 15});
  check_same(cell.step(gi, h), cell(x, h));
  // gru_step with W_hhᵀ passed directly
  check_same(tg::nn::gru_step(gi, h, tg::transpose(cell.weight_hh, 0, 1), cell.bias_hh), cell(x, h));
}

TEST_CASE("GRUCell: float64 gradient check over inputs and parameters") {
  for (const bool bias : {true, false}) {
    INFO("bias " << bias);
    tg::Generator gen(5);
    GRUCell cell(3, 2, {.bias = bias, .dtype = DType::f64}, gen);
    const Tensor x = tg::randn({2, 3}, {DType::f64}, gen).requires_grad_();
    const Tensor h = tg::randn({2, 2}, {DType::f64}, gen).requires_grad_();
    Inputs inputs{x, h};
    for (const Tensor& p : cell.parameters()) inputs.push_back(p);
    check_gradcheck(tg::gradcheck([&](const Inputs& in) { return cell(in[0], in[1]); }, inputs));
  }
}

TEST_CASE("GRUCell: errors name what was expected and what was got") {
  GRUCell cell(3, 4);
  const Tensor x = tg::zeros({2, 3}), h = tg::zeros({2, 4});
  CHECK_THROWS_WITH_AS(cell(tg::zeros({2, 5}), h), doctest::Contains("input_size = 3, got (2, 5)"), tg::Error);
  CHECK_THROWS_WITH_AS(cell(tg::zeros({2, 1, 3}), h), doctest::Contains("(B, I)"), tg::Error);
  CHECK_THROWS_WITH_AS(cell(x, tg::zeros({3, 4})), doctest::Contains("(B, H) = (2, 4), got (3, 4)"), tg::Error);
  CHECK_THROWS_WITH_AS(cell(x, Tensor()), doctest::Contains("argument 'h' is an undefined tensor"), tg::Error);
  CHECK_THROWS_WITH_AS(GRUCell(0, 4), doctest::Contains("input_size=0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nn::gru_step(tg::zeros({2, 11}), h, tg::zeros({4, 12}), Tensor()),
                       doctest::Contains("(2, 12), got (2, 11)"), tg::Error);
}

}  // namespace

// The fused gate op against the same equations written with separate ops.
namespace {
using namespace tg;
Tensor composed_gru_gates(const Tensor& gi, const Tensor& gh, const Tensor& h) {
  const int64_t H = h.size(1);
  const Tensor r = sigmoid(slice(gi, 1, 0, H) + slice(gh, 1, 0, H));
  const Tensor z = sigmoid(slice(gi, 1, H, 2 * H) + slice(gh, 1, H, 2 * H));
  const Tensor n = tanh(slice(gi, 1, 2 * H, 3 * H) + r * slice(gh, 1, 2 * H, 3 * H));
  return (1.0 - z) * n + z * h;
}
}  // namespace

TEST_CASE("gru_gates: fused values and gradients equal the composed ops, on both host backends") {
  using namespace tg;
  for (const char* backend : {"cpu", "reference"}) {
    CAPTURE(backend);
    HostBackendScope scope(std::string_view(backend) == "cpu" ? cpu_backend() : reference_backend());
    Generator gen(11);
    const int64_t B = 5, H = 7;
    // gi as a time step of a (T, B, 3H) tensor: a view with an offset.
    const Tensor gi_all = normal({3, B, 3 * H}, 0, 1.5, {DType::f64}, gen).requires_grad_();
    const Tensor gh = normal({B, 3 * H}, 0, 1.5, {DType::f64}, gen).requires_grad_();
    const Tensor h = normal({B, H}, 0, 1, {DType::f64}, gen).requires_grad_();
    const Tensor fused = gru_gates(select(gi_all, 0, 1), gh, h);
    const Tensor composed = composed_gru_gates(select(gi_all, 0, 1), gh, h);
    const std::vector<double> a = fused.to_vector<double>(), b = composed.to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-14));

    const Tensor seed = normal({B, H}, 0, 1, {DType::f64}, gen);
    std::vector<std::vector<double>> grads[2];
    for (int k = 0; k < 2; ++k) {
      for (const Tensor* t : {&gi_all, &gh, &h}) t->set_grad(Tensor());
      const Tensor y = k == 0 ? gru_gates(select(gi_all, 0, 1), gh, h)
                              : composed_gru_gates(select(gi_all, 0, 1), gh, h);
      sum(y * seed).backward();
      for (const Tensor* t : {&gi_all, &gh, &h}) grads[k].push_back(t->grad().to_vector<double>());
    }
    for (size_t t = 0; t < 3; ++t)
      for (size_t i = 0; i < grads[0][t].size(); ++i)
        CHECK(grads[0][t][i] == doctest::Approx(grads[1][t][i]).epsilon(1e-12));

    const GradcheckResult check = gradcheck(
        [](const std::vector<Tensor>& x) { return gru_gates(x[0], x[1], x[2]); },
        {normal({B, 3 * H}, 0, 1, {DType::f64}, gen).requires_grad_(), gh.detach().clone().requires_grad_(),
         h.detach().clone().requires_grad_()});
    CHECK_MESSAGE(check.ok, check.message);
  }
}

TEST_CASE("gru_gates: float32 on cpu matches the reference backend; shape errors") {
  using namespace tg;
  Generator gen(3);
  const Tensor gi = normal({4, 3 * 33}, 0, 2, {DType::f32}, gen);
  const Tensor gh = normal({4, 3 * 33}, 0, 2, {DType::f32}, gen);
  const Tensor h = normal({4, 33}, 0, 1, {DType::f32}, gen);
  const std::vector<float> fast = gru_gates(gi, gh, h).to_vector<float>();
  HostBackendScope scope(reference_backend());
  const std::vector<float> slow = gru_gates(gi, gh, h).to_vector<float>();
  for (size_t i = 0; i < fast.size(); ++i) CHECK(fast[i] == doctest::Approx(slow[i]).epsilon(1e-5));
  CHECK_THROWS_WITH_AS(gru_gates(gi, gh, normal({4, 32}, 0, 1, {DType::f32}, gen)),
                       doctest::Contains("must be (B, 3H) = (4, 96)"), Error);
}
