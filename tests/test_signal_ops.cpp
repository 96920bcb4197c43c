// conv1d and layer_norm and their modules: values and gradients
// equal PyTorch's (tests/fixtures/make_signal_op_fixtures.py ->
// signal_ops.txt) in float64, float64 gradchecks, and errors that name what
// was expected.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Shape;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("signal_ops.txt");
  return loaded;
}

double largest_magnitude(const Tensor& t) {
  double m = 0;
  for (const double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

void check_values(const Tensor& got, const std::string& name) {
  const FixtureTensor& want = entry(fixture(), name);
  REQUIRE(got.shape() == want.shape);
  const std::vector<double> values = got.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i)
    CHECK(values[i] == doctest::Approx(want.values[i]).epsilon(1e-12).scale(1.0));
}

// The case's output, and the gradients of Σ out ⊙ w with respect to each named input, against PyTorch's.
void check_case(const std::string& name, const std::vector<std::string>& inputs,
                const std::function<Tensor(const std::vector<Tensor>&)>& op) {
  CAPTURE(name);
  std::vector<Tensor> leaves;
  for (const std::string& input : inputs) leaves.push_back(fixture_tensor(fixture(), name + "." + input, DType::f64, true));
  tg::Tape tape;
  tg::TapeScope scope(tape);
  const Tensor out = op(leaves);
  check_values(out, name + ".out");
  tg::sum(out * fixture_tensor(fixture(), name + ".w", DType::f64)).backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(inputs[i]);
    check_values(leaves[i].grad(), name + ".grad_" + inputs[i]);
  }
}

}  // namespace

TEST_CASE("layer_norm equals PyTorch's: over the last dim, the last two, without affine") {
  check_case("ln_last", {"x", "weight", "bias"},
             [](const std::vector<Tensor>& in) { return tg::layer_norm(in[0], Shape{6}, in[1], in[2]); });
  check_case("ln_two", {"x", "weight", "bias"},
             [](const std::vector<Tensor>& in) { return tg::layer_norm(in[0], Shape{4, 6}, in[1], in[2], 1e-3); });
  check_case("ln_plain", {"x"}, [](const std::vector<Tensor>& in) { return tg::layer_norm(in[0], Shape{6}); });
}

TEST_CASE("conv1d equals PyTorch's: stride, padding, dilation, groups, no bias, unbatched, K = 1") {
  auto with = [](int64_t stride, int64_t padding, int64_t dilation, int64_t groups) {
    return [=](const std::vector<Tensor>& in) {
      return tg::conv1d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), stride, padding, dilation, groups);
    };
  };
  check_case("conv_plain", {"x", "weight", "bias"}, with(1, 0, 1, 1));
  check_case("conv_strided", {"x", "weight", "bias"}, with(2, 2, 2, 1));
  check_case("conv_groups", {"x", "weight", "bias"}, with(1, 1, 1, 2));
  check_case("conv_nobias", {"x", "weight"}, with(3, 1, 1, 1));
  check_case("conv_unbatched", {"x", "weight", "bias"}, with(1, 1, 1, 1));
  check_case("conv_pointwise", {"x", "weight", "bias"}, with(1, 0, 1, 1));
}

TEST_CASE("conv1d and layer_norm: float64 gradchecks of every input") {
  tg::Generator gen(9);
  const tg::TensorOptions f64{.dtype = DType::f64, .requires_grad = true};
  const Tensor x = tg::randn({2, 4, 9}, f64, gen), w = tg::randn({6, 2, 3}, f64, gen), b = tg::randn({6}, f64, gen);
  CHECK(tg::gradcheck([](const std::vector<Tensor>& in) { return tg::conv1d(in[0], in[1], in[2], 2, 1, 2, 2); },
                      {x, w, b}).ok);
  const Tensor y = tg::randn({3, 2, 5}, f64, gen), g = tg::randn({2, 5}, f64, gen), h = tg::randn({2, 5}, f64, gen);
  CHECK(tg::gradcheck([](const std::vector<Tensor>& in) { return tg::layer_norm(in[0], Shape{2, 5}, in[1], in[2]); },
                      {y, g, h}).ok);
}

TEST_CASE("layer_norm's fused kernel: the cpu body equals the reference body; its sums do not depend on threads") {
  tg::Generator gen(12);
  const tg::TensorOptions f64{.dtype = DType::f64, .requires_grad = true};
  // 70 rows: more than two of the cpu body's blocks of 32, the last one partial.
  const Tensor x = tg::randn({7, 10, 24}, f64, gen), w = tg::randn({24}, f64, gen), b = tg::randn({24}, f64, gen);
  const Tensor seed = tg::randn({7, 10, 24}, {.dtype = DType::f64}, gen);
  auto run = [&](tg::Backend& backend, bool affine) {
    tg::HostBackendScope scope(backend);
    for (const Tensor* t : {&x, &w, &b}) t->set_grad(Tensor());
    const Tensor y = affine ? tg::layer_norm(x, Shape{24}, w, b) : tg::layer_norm(x, Shape{24});
    y.backward(seed);
    std::vector<std::vector<double>> out = {y.to_vector<double>(), x.grad().to_vector<double>()};
    if (affine) out.push_back(w.grad().to_vector<double>()), out.push_back(b.grad().to_vector<double>());
    return out;
  };
  for (bool affine : {true, false}) {
    CAPTURE(affine);
    const auto cpu = run(tg::cpu_backend(), affine), reference = run(tg::reference_backend(), affine);
    REQUIRE(cpu.size() == reference.size());
    for (size_t i = 0; i < cpu.size(); ++i)
      for (size_t j = 0; j < cpu[i].size(); ++j) CHECK(cpu[i][j] == doctest::Approx(reference[i][j]).epsilon(1e-12));
  }
  const int threads = tg::num_threads();
  tg::set_num_threads(1);
  const auto one = run(tg::cpu_backend(), true);
  tg::set_num_threads(2);
  const auto two = run(tg::cpu_backend(), true);
  tg::set_num_threads(threads);
  CHECK(two == one);  // bit for bit
  // Weight without bias, and the gradcheck of that form.
  const Tensor small = tg::randn({3, 5}, f64, gen), scale = tg::randn({5}, f64, gen);
  CHECK(tg::gradcheck([](const std::vector<Tensor>& in) { return tg::layer_norm(in[0], Shape{5}, in[1]); },
                      {small, scale}).ok);
}

TEST_CASE("nn::Conv1d and nn::LayerNorm: shapes, PyTorch's initialisation, parameter names") {
  tg::Generator gen(3);
  tg::nn::Conv1d conv(8, 16, 5, {.stride = 2, .padding = 2}, gen);
  CHECK(conv.weight.shape() == Shape{16, 8, 5});
  const double bound = 1.0 / std::sqrt(40.0);
  CHECK(largest_magnitude(conv.weight) <= bound);
  CHECK(largest_magnitude(conv.weight) > 0.9 * bound);
  const Tensor out = conv(tg::randn({3, 8, 20}, {}, gen));
  CHECK(out.shape() == Shape{3, 16, 10});  // ⌊(20 + 4 − 5) / 2⌋ + 1
  const auto names = conv.named_parameters();
  REQUIRE(names.size() == 2);
  CHECK(names[0].first == "weight");
  CHECK(names[1].first == "bias");
  tg::nn::Conv1d no_bias(4, 4, 3, {.groups = 2, .bias = false}, gen);
  CHECK(no_bias.weight.shape() == Shape{4, 2, 3});
  CHECK(no_bias.named_parameters().size() == 1);

  tg::nn::LayerNorm norm(Shape{16});
  CHECK(norm.weight.to_vector<double>() == std::vector<double>(16, 1.0));
  CHECK(norm.bias.to_vector<double>() == std::vector<double>(16, 0.0));
  const Tensor normed = norm(tg::randn({2, 5, 16}, {}, gen) * 3.0 + 7.0);
  CHECK(largest_magnitude(tg::mean(normed, {-1})) < 1e-5);
  tg::nn::LayerNorm plain(Shape{16}, {.elementwise_affine = false});
  CHECK(plain.named_parameters().empty());
}

TEST_CASE("conv1d and layer_norm: bad arguments name what was expected and what was got") {
  const Tensor x = tg::zeros({2, 3, 10}), w = tg::zeros({4, 3, 3});
  CHECK_THROWS_WITH_AS(tg::conv1d(x, tg::zeros({4, 2, 3})), doctest::Contains("needs 3 input channels per group"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv1d(tg::zeros({2, 10}), tg::zeros({4, 2, 20})),
                       doctest::Contains("fewer than the 20 one output reads"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv1d(x, w, tg::zeros({3})), doctest::Contains("bias must be (4,), got (3,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv1d(x, w, Tensor(), 0), doctest::Contains("stride, dilation and groups must be >= 1"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv1d(tg::zeros({10}), w), doctest::Contains("must be (B, C_in, T) or (C_in, T)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::conv1d(x, w, Tensor(), 1, 0, 1, 2), doctest::Contains("groups=2 must divide C_in=3"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, Shape{3}), doctest::Contains("must end in normalized_shape (3,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, Shape{10}, tg::ones({9})), doctest::Contains("weight must have normalized_shape (10,), got (9,)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::nn::Conv1d(3, 4, 0), doctest::Contains("sizes must be positive"), tg::Error);
}
