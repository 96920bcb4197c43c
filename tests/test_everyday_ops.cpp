// The everyday ops: logsumexp, var/std, l1 and smooth_l1, binary
// cross entropy (on probabilities and on logits), nll_loss, gather, topk,
// cumsum and einsum. Values and gradients equal PyTorch's
// (tests/fixtures/make_everyday_op_fixtures.py -> everyday_ops.txt) in
// float64, float64 gradchecks, and errors that name what was expected.
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
  static const Fixture loaded = load_fixture("everyday_ops.txt");
  return loaded;
}

Tensor input(const std::string& name) { return fixture_tensor(fixture(), name, DType::f64); }

// The op against the fixture's output and gradient (test_support.h).
void check_case(const std::string& name, const std::function<Tensor(const Tensor&)>& op, const std::string& first) {
  check_fixture_case(fixture(), name, op, first);
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
  const Tensor edge = tg::tensor({-INFINITY, -INFINITY, 1000.0, 0.0}, {2, 2}, {.dtype = tg::DType::f64}).to(DType::f64);
  const std::vector<double> lse = tg::logsumexp(edge, 1).to_vector<double>();
  CHECK(lse[0] == -INFINITY);
  CHECK(lse[1] == doctest::Approx(1000.0));
  // binary_cross_entropy clamps its logs at −100 as PyTorch does.
  CHECK(tg::binary_cross_entropy(tg::tensor({0.0}, {}, {.dtype = tg::DType::f64}).to(DType::f64), tg::tensor({1.0}, {}, {.dtype = tg::DType::f64}).to(DType::f64)).item() == 100.0);
  const Tensor x = tg::zeros({3, 2}, {DType::f64});
  CHECK_THROWS_WITH_AS(tg::var(tg::zeros({1, 2}), 0), doctest::Contains("1 element along axis 0 of (1, 2) leave no degrees of freedom with correction 1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::l1_loss(x, tg::zeros({2, 3}, {DType::f64})), doctest::Contains("l1_loss: input (3, 2) and target (2, 3): shapes differ"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::smooth_l1_loss(x, x, Reduction::mean, -1), doctest::Contains("beta must be >= 0, got -1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::binary_cross_entropy_with_logits(x, tg::zeros({3}, {DType::f64})), doctest::Contains("logits (3, 2) and target (3,): shapes differ"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nll_loss(x, tg::index_tensor({0, 5, 1})), doctest::Contains("nll_loss: log_probs (3, 2), target (3,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nll_loss(x, tg::index_tensor({0, 1, 1}), {.label_smoothing = 0.1}), doctest::Contains("label_smoothing is cross_entropy's option"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::logsumexp(tg::scalar(1.0), 0), doctest::Contains("needs an axis"), tg::Error);
}

TEST_CASE("gather, topk, cumsum and einsum equal PyTorch's, values and gradients") {
  auto ints = [](const std::string& name) {
    const FixtureTensor& t = entry(fixture(), name);
    return tg::from_vector(t.values, t.shape, {DType::i64});
  };
  check_case("gather1", [&](const Tensor& x) { return tg::gather(x, 1, ints("index")); }, "x");
  check_case("gather0", [&](const Tensor& x) { return tg::gather(x, 0, tg::reshape(tg::index_tensor({2, 0, 1, 1, 0}), tg::Shape{1, 5})); }, "x");
  check_case("topk3", [](const Tensor& x) { return tg::topk(x, 3, 1).values; }, "x");
  check_case("topk2_smallest0", [](const Tensor& x) { return tg::topk(x, 2, 0, false).values; }, "x");
  CHECK(tg::topk(input("x"), 3, 1).indices.to_vector<int64_t>() == ints("topk3.indices").to_vector<int64_t>());
  CHECK(tg::topk(input("x"), 2, 0, false).indices.to_vector<int64_t>() ==
        ints("topk2_smallest0.indices").to_vector<int64_t>());
  check_case("cumsum1", [](const Tensor& x) { return tg::cumsum(x, 1); }, "x");
  check_case("cumsum0", [](const Tensor& x) { return tg::cumsum(x, 0); }, "x");
  const Tensor m = input("m"), k = input("k");
  check_case("einsum_ij_jk", [&](const Tensor& x) { return tg::einsum("ij,jk->ik", {x, m}); }, "x");
  check_case("einsum_attention", [&](const Tensor& q) { return tg::einsum("bhqd,bhkd->bhqk", {q, k}); }, "q");
  check_case("einsum_implicit", [&](const Tensor& x) { return tg::einsum("ij,jk", {x, m}); }, "x");
  check_case("einsum_sum", [](const Tensor& x) { return tg::einsum("ij->i", {x}); }, "x");
  check_case("einsum_transpose", [](const Tensor& x) { return tg::einsum("ij->ji", {x}); }, "x");
  check_case("einsum_dot", [](const Tensor& x) { return tg::einsum("bi,bi->b", {x, x * 2.0}); }, "x");
  const Tensor row = tg::select(input("x"), 0, 0);
  const Tensor outer = tg::einsum("i,j->ij", {row, tg::arange(3, {DType::f64})});
  const FixtureTensor& want = entry(fixture(), "einsum_outer.out");
  CHECK(outer.shape() == want.shape);
  CHECK(outer.to_vector<double>() == want.values);
}

TEST_CASE("gather, topk, cumsum, einsum: gradchecks, ties, NaN and errors") {
  tg::Generator gen(41);
  auto randn = [&](tg::Shape shape) { return tg::randn(shape, {DType::f64, tg::Device::cpu(), true}, gen); };
  const Tensor index = tg::reshape(tg::index_tensor({0, 0, 2, 1, 2, 2}), tg::Shape{2, 3});
  check_gradcheck([&](const std::vector<Tensor>& in) { return tg::gather(in[0], 1, index); }, {randn({2, 3})});
  const Tensor rows = tg::reshape(tg::index_tensor({1, 0, 1, 1, 1, 0}), tg::Shape{2, 3});
  check_gradcheck([&](const std::vector<Tensor>& in) { return tg::gather(tg::transpose(in[0], 0, 1), 0, rows); },
                  {randn({3, 2})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::topk(in[0], 2, 0).values; }, {randn({4, 3})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::cumsum(in[0], -1); }, {randn({2, 3, 4})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::einsum("bij,bjk->bik", {in[0], in[1]}); },
                  {randn({2, 3, 4}), randn({2, 4, 2})});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::einsum("ijk,k->j", {in[0], in[1]}); },
                  {randn({2, 3, 4}), randn({4})});

  // Ties keep the lower index first; NaN counts as the largest.
  const Tensor ties = tg::tensor({1.0, 3.0, 3.0, NAN, 0.0}, {}, {.dtype = tg::DType::f64}).to(DType::f64);
  CHECK(tg::topk(ties, 3).indices.to_vector<int64_t>() == std::vector<int64_t>{3, 1, 2});
  CHECK(tg::topk(ties, 2, 0, false).indices.to_vector<int64_t>() == std::vector<int64_t>{4, 0});

  const Tensor x = tg::zeros({2, 3}, {DType::f64});
  CHECK_THROWS_WITH_AS(tg::gather(x, 1, tg::reshape(tg::index_tensor({0, 3}), tg::Shape{2, 1})),
                       doctest::Contains("index value 3 at position 1 is out of range for dimension 1 of size 3"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::gather(x, 1, tg::index_tensor({0})), doctest::Contains("must have x's rank 2"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::topk(x, 4), doctest::Contains("k = 4 must be in 0..3"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::einsum("ij,jk,kl->il", {x, x, x}), doctest::Contains("3 operands; one or two are supported"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::einsum("ii->i", {tg::zeros({2, 2}, {DType::f64})}), doctest::Contains("'i' appears twice in operand 0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::einsum("ij,jk->ik", {x, x}), doctest::Contains("'j' is 3 in one operand and 2 in operand 1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::einsum("...ij->ij", {x}), doctest::Contains("\"...\" is not supported"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::einsum("ij->iz", {x}), doctest::Contains("output letter 'z' is in no operand"), tg::Error);
}
