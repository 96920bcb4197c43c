// logsumexp, var/std, l1 and smooth_l1, binary cross entropy (on probabilities
// and on logits) and nll_loss: values and gradients equal PyTorch's
// (tests/fixtures/make_loss_fixtures.py -> losses.txt) in float64, float64
// gradchecks, and errors that name what was expected.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Reduction;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("losses.txt");
  return loaded;
}

Tensor input(const std::string& name) { return fixture_tensor(fixture(), name, DType::f64); }

// The op's output and the gradient of Σ out ⊙ w with respect to its first input, against PyTorch's.
void check_case(const std::string& name, const std::function<Tensor(const Tensor&)>& op, const std::string& first) {
  CAPTURE(name);
  const Tensor x = fixture_tensor(fixture(), first, DType::f64, true);
  const Tensor out = op(x);
  const FixtureTensor& want = entry(fixture(), name + ".out");
  REQUIRE(out.shape() == want.shape);
  const std::vector<double> got = out.to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want.values[i]).epsilon(1e-12));
  tg::sum(out * input(name + ".w")).backward();
  const std::vector<double> grad = x.grad().to_vector<double>();
  const FixtureTensor& want_grad = entry(fixture(), name + ".grad");
  REQUIRE(grad.size() == want_grad.values.size());
  for (size_t i = 0; i < grad.size(); ++i)
    CHECK(grad[i] == doctest::Approx(want_grad.values[i]).epsilon(1e-12).scale(1.0));
}

const std::pair<const char*, Reduction> reductions[] = {
    {"mean", Reduction::mean}, {"sum", Reduction::sum}, {"none", Reduction::none}};

}  // namespace

TEST_CASE("logsumexp, var and std equal PyTorch's, values and gradients") {
  check_case("logsumexp1", [](const Tensor& x) { return tg::logsumexp(x, 1); }, "x");
  check_case("logsumexp0k", [](const Tensor& x) { return tg::logsumexp(x, 0, true); }, "x");
  check_case("var1", [](const Tensor& x) { return tg::var(x, 1); }, "x");
  check_case("var0c0k", [](const Tensor& x) { return tg::var(x, 0, 0, true); }, "x");
  check_case("std1", [](const Tensor& x) { return tg::std(x, 1); }, "x");
}

TEST_CASE("l1, smooth_l1, binary cross entropy and nll_loss equal PyTorch's for every reduction") {
  const Tensor b = input("b"), y = input("y"), target = tg::from_vector(entry(fixture(), "target").values, tg::Shape{2, 3}, {DType::i64});
  for (const auto& [suffix_, reduction_] : reductions) {
    const std::string suffix = suffix_;
    const Reduction reduction = reduction_;
    check_case("l1." + suffix, [&](const Tensor& a) { return tg::l1_loss(a, b, reduction); }, "a");
    check_case("smooth_l1." + suffix, [&](const Tensor& a) { return tg::smooth_l1_loss(a, b, reduction, 0.5); }, "a");
    check_case("bce_logits." + suffix,
               [&](const Tensor& z) { return tg::binary_cross_entropy_with_logits(z, y, reduction); }, "z");
    check_case("bce." + suffix, [&](const Tensor& p) { return tg::binary_cross_entropy(p, y, reduction); }, "p");
    check_case("nll." + suffix, [&](const Tensor& logp) { return tg::nll_loss(logp, target, {.reduction = reduction}); },
               "logp");
    check_case("nll_ignore." + suffix,
               [&](const Tensor& logp) { return tg::nll_loss(logp, target, {.ignore_index = 2, .reduction = reduction}); },
               "logp");
  }
  check_case("smooth_l1_beta1", [&](const Tensor& a) { return tg::smooth_l1_loss(a, b); }, "a");
}

TEST_CASE("float64 gradchecks of the new reductions and losses") {
  tg::Generator gen(31);
  auto randn = [&](tg::Shape shape) { return tg::randn(shape, {DType::f64, tg::Device::cpu(), true}, gen); };
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::logsumexp(in[0], -1); }, {randn({3, 4})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::std(in[0], 0, 0); }, {randn({3, 4})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::var(tg::transpose(in[0], 0, 1), 1); }, {randn({3, 4})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::l1_loss(in[0], in[1]); }, {randn({5}), randn({5})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::smooth_l1_loss(in[0], in[1], Reduction::sum, 0.7); },
                  {randn({6}), randn({6})});
  const Tensor soft = tg::uniform({2, 3}, 0, 1, {DType::f64}, gen);
  check_gradcheck([&](const std::vector<Tensor>& in) { return tg::binary_cross_entropy_with_logits(in[0], soft); },
                  {randn({2, 3})});
  check_gradcheck([&](const std::vector<Tensor>& in) { return tg::binary_cross_entropy(tg::sigmoid(in[0]), soft); },
                  {randn({2, 3})});
  const Tensor classes = tg::index_tensor({0, 3, 1});
  check_gradcheck([&](const std::vector<Tensor>& in) { return tg::nll_loss(tg::log_softmax(in[0], -1), classes); },
                  {randn({3, 4})});
}

TEST_CASE("edge values and errors name what was expected") {
  // logsumexp of an infinite slice is infinite, not nan; a large value does not overflow.
  const Tensor edge = tg::tensor({-INFINITY, -INFINITY, 1000.0, 0.0}, {2, 2}).to(DType::f64);
  const std::vector<double> lse = tg::logsumexp(edge, 1).to_vector<double>();
  CHECK(lse[0] == -INFINITY);
  CHECK(lse[1] == doctest::Approx(1000.0));
  // binary_cross_entropy clamps its logs at −100 as PyTorch does.
  CHECK(tg::binary_cross_entropy(tg::tensor({0.0}).to(DType::f64), tg::tensor({1.0}).to(DType::f64)).item() == 100.0);
  const Tensor x = tg::zeros({3, 2}, {DType::f64});
  CHECK_THROWS_WITH_AS(tg::var(tg::zeros({1, 2}), 0), doctest::Contains("1 element along axis 0 of (1, 2) leave no degrees of freedom with correction 1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::l1_loss(x, tg::zeros({2, 3}, {DType::f64})), doctest::Contains("l1_loss: input (3, 2) and target (2, 3): shapes differ"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::smooth_l1_loss(x, x, Reduction::mean, -1), doctest::Contains("beta must be >= 0, got -1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::binary_cross_entropy_with_logits(x, tg::zeros({3}, {DType::f64})), doctest::Contains("logits (3, 2) and target (3,): shapes differ"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nll_loss(x, tg::index_tensor({0, 5, 1})), doctest::Contains("nll_loss: log_probs (3, 2), target (3,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nll_loss(x, tg::index_tensor({0, 1, 1}), {.label_smoothing = 0.1}), doctest::Contains("label_smoothing is cross_entropy's option"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::logsumexp(tg::scalar(1.0), 0), doctest::Contains("needs an axis"), tg::Error);
}
