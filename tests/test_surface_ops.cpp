// The PyTorch surface, first part: sin, cos, rsqrt, silu, triu,
// tril, split, chunk, flip, repeat_interleave, cat, the *_like creators, the
// whole-tensor var/std/max/min and one-axis sum/mean. Values and gradients
// equal PyTorch's in float64 (tests/fixtures/make_surface_fixtures.py ->
// surface_ops.txt), float64 gradchecks, and errors that name what was expected.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("surface_ops.txt");
  return loaded;
}

Tensor input(const std::string& name) { return fixture_tensor(fixture(), name, DType::f64); }

// The op against the fixture's output and gradient (test_support.h).
void check_case(const std::string& name, const std::function<Tensor(const Tensor&)>& op, const std::string& first) {
  check_fixture_case(fixture(), name, op, first);
}

// The pieces joined flat, piece i times i + 1 (as the fixture script's `numbered`).
Tensor numbered(const std::vector<Tensor>& pieces) {
  std::vector<Tensor> flat;
  for (size_t i = 0; i < pieces.size(); ++i)
    flat.push_back(tg::reshape(pieces[i], {-1}) * static_cast<double>(i + 1));
  return tg::cat(flat);
}

void gradcheck_ok(const std::function<Tensor(const Tensor&)>& op, const Tensor& x) {
  const tg::GradcheckResult r = tg::gradcheck([&](const std::vector<Tensor>& in) { return op(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.message);
}

}  // namespace

TEST_CASE("sin, cos, rsqrt and silu equal PyTorch's, values and gradients") {
  check_case("sin", [](const Tensor& x) { return tg::sin(x); }, "x");
  check_case("cos", [](const Tensor& x) { return tg::cos(x); }, "x");
  check_case("rsqrt", [](const Tensor& x) { return tg::rsqrt(x); }, "pos");
  check_case("silu", [](const Tensor& x) { return tg::silu(x); }, "x");
  check_case("gelu", [](const Tensor& x) { return tg::gelu(x); }, "x");
  check_case("gelu_tanh", [](const Tensor& x) { return tg::gelu(x, tg::GeluApproximation::tanh); }, "x");
}

TEST_CASE("triu and tril equal PyTorch's, on matrices and batches, with a diagonal offset") {
  check_case("triu", [](const Tensor& x) { return tg::triu(x); }, "x");
  check_case("triu1", [](const Tensor& x) { return tg::triu(x, 1); }, "x");
  check_case("tril", [](const Tensor& x) { return tg::tril(x); }, "x");
  check_case("tril_1", [](const Tensor& x) { return tg::tril(x, -1); }, "cube");
  // An inf outside the triangle becomes 0, as PyTorch's (a product with a mask would give nan).
  const Tensor inf = tg::full({2, 2}, INFINITY, {DType::f64});
  CHECK(tg::triu(inf).to_vector<double>() == std::vector<double>{INFINITY, INFINITY, 0, INFINITY});
  CHECK_THROWS_WITH_AS(tg::triu(tg::ones({3})), doctest::Contains("triu: x must have at least 2 dims"), tg::Error);
}

TEST_CASE("split, chunk, flip and repeat_interleave equal PyTorch's, values and gradients") {
  check_case("split2_1", [](const Tensor& x) { return numbered(tg::split(x, 2, 1)); }, "x");
  check_case("split_sizes0", [](const Tensor& x) { return numbered(tg::split(x, std::vector<int64_t>{1, 2}, 0)); }, "x");
  check_case("chunk3_1", [](const Tensor& x) { return numbered(tg::chunk(x, 3, 1)); }, "x");
  check_case("chunk4_2", [](const Tensor& x) { return numbered(tg::chunk(x, 4, 2)); }, "cube");
  check_case("flip1", [](const Tensor& x) { return tg::flip(x, {1}); }, "x");
  check_case("flip02", [](const Tensor& x) { return tg::flip(x, {0, 2}); }, "cube");
  check_case("repeat2_0", [](const Tensor& x) { return tg::repeat_interleave(x, 2, 0); }, "x");
  check_case("repeat_counts1", [](const Tensor& x) { return tg::repeat_interleave(x, {0, 2, 1, 3, 1}, 1); }, "x");
  CHECK(tg::chunk(tg::ones({5}), 4).size() == 3);  // ⌈5/4⌉ = 2 each: 2, 2, 1, as torch.chunk
  CHECK_THROWS_WITH_AS(tg::split(tg::ones({5}), std::vector<int64_t>{2, 2}),
                       doctest::Contains("split: sizes add up to 4, but axis 0 of x (5,) has length 5"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::flip(tg::ones({2, 2}), {1, -1}), doctest::Contains("flip: axis -1 is listed twice"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::repeat_interleave(tg::ones({3}), {1, 2}, 0),
                       doctest::Contains("repeat_interleave: 2 repeat counts for axis 0 of x (3,), which has 3"),
                       tg::Error);
}

TEST_CASE("scatter_add equals PyTorch's: repeated indices add up, gradients to x and to src; errors") {
  const Tensor index1 = input("scatter_index1").to(DType::i64), index0 = input("scatter_index0").to(DType::i64);
  check_case("scatter_add1_src",
             [&](const Tensor& x) { return tg::scatter_add(tg::zeros({3, 5}, {DType::f64}), 1, index1, x); }, "x");
  check_case("scatter_add0_x", [&](const Tensor& x) { return tg::scatter_add(x, 0, index0, input("pos")); }, "x");
  tg::Generator gen(4);
  const Tensor x = tg::randn({3, 5}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor src = tg::randn({3, 5}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const tg::GradcheckResult r = tg::gradcheck(
      [&](const std::vector<Tensor>& in) { return tg::scatter_add(in[0], 1, index1, in[1]); }, {x, src});
  CHECK_MESSAGE(r.ok, r.message);
  CHECK_THROWS_WITH_AS(tg::scatter_add(x, 1, tg::index_tensor({0, 7, 1}, {1, 3}), src),
                       doctest::Contains("scatter_add: index value 7 at position 1 is out of range for dimension 1 of "
                                         "size 5 (x (3, 5))"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::scatter_add(x, 0, index1, tg::ones({3, 2}, {DType::f64})),
                       doctest::Contains("scatter_add: index (3, 4) is larger than src (3, 2) in dimension 1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::scatter_add(x, 1, index1.to(DType::f64), src), doctest::Contains("index must be int64"),
                       tg::Error);
}

TEST_CASE("whole-tensor var, std, max and min; sum and mean over one axis written as a number") {
  check_case("var_all", [](const Tensor& x) { return tg::var(x); }, "x");
  check_case("std_all", [](const Tensor& x) { return tg::std(x); }, "x");
  check_case("max_all", [](const Tensor& x) { return tg::max(x); }, "x");
  check_case("min_all", [](const Tensor& x) { return tg::min(x); }, "x");
  const Tensor x = input("x");
  CHECK(tg::sum(x, 1).to_vector<double>() == tg::sum(x, {1}).to_vector<double>());
  CHECK(tg::mean(x, 0, true).shape() == tg::Shape{1, 5});
  CHECK(tg::sum(x, std::vector<int>{}).shape() == x.shape());  // no axes: nothing summed
  CHECK_THROWS_WITH_AS(tg::max(tg::ones({0, 3})), doctest::Contains("max: of an empty tensor of shape (0, 3)"),
                       tg::Error);
}

TEST_CASE("cat and the *_like creators: PyTorch's names") {
  const Tensor a = tg::ones({2, 3}), b = tg::zeros({1, 3});
  CHECK(tg::cat({a, b}).shape() == tg::Shape{3, 3});
  CHECK(tg::cat({a, a}, 1).shape() == tg::Shape{2, 6});
  const Tensor like = tg::full_like(tg::ones({2, 2}, {DType::f64}), 2.5);
  CHECK(like.dtype() == DType::f64);
  CHECK(like.to_vector<double>() == std::vector<double>(4, 2.5));
  CHECK(tg::zeros_like(a).to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(tg::ones_like(b).shape() == b.shape());
  CHECK_FALSE(tg::ones_like(tg::ones({2}, {.requires_grad = true})).requires_grad());
}

TEST_CASE("float64 gradchecks of the new ops") {
  tg::Generator gen(39);
  const Tensor x = tg::randn({3, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor positive = tg::uniform({3, 4}, 0.5, 2.0, {.dtype = DType::f64, .requires_grad = true}, gen);
  gradcheck_ok([](const Tensor& t) { return tg::sin(t); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::cos(t); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::rsqrt(t); }, positive);
  gradcheck_ok([](const Tensor& t) { return tg::silu(t); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::triu(t, 1); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::tril(t, -1); }, x);
  gradcheck_ok([](const Tensor& t) { return numbered(tg::split(t, 3, 1)); }, x);
  gradcheck_ok([](const Tensor& t) { return numbered(tg::chunk(t, 2, 0)); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::flip(t, {0, 1}); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::repeat_interleave(t, {2, 0, 1, 3}, 1); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::var(t); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::std(t); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::max(t); }, x);
  gradcheck_ok([](const Tensor& t) { return tg::min(t); }, x);
}

TEST_CASE("small things a PyTorch user met: a 16-bit layer and PyTorch's cross-entropy layout are named") {
  CHECK_THROWS_WITH_AS(tg::nn::Linear(4, 3, {.dtype = DType::bf16}),
                       doctest::Contains("Linear: bfloat16 parameters are not supported: build it in float32"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::nn::GRU(4, 3, {.dtype = DType::f16}), doctest::Contains("GRU: float16 parameters"), tg::Error);
  const Tensor logits = tg::randn({2, 5, 7});  // (N, C, T) as PyTorch takes it
  const Tensor target = tg::index_tensor(std::vector<int64_t>(14, 1), {2, 7});
  CHECK_THROWS_WITH_AS(tg::cross_entropy(logits, target),
                       doctest::Contains("looks like PyTorch's (N, C, T) layout; here the classes go last, (N, T, C): "
                                         "pass transpose(logits, 1, 2)"),
                       tg::Error);
  CHECK(tg::cross_entropy(tg::transpose(logits, 1, 2), target).defined());
  tg::set_num_threads(tg::num_threads());  // found through tapegrad.h (core/services/threads.h)
}

TEST_CASE("ModuleListOf<Layer> hands its layers back typed, under the same names as ModuleList") {
  struct Deep : tg::nn::Module {
    tg::nn::ModuleListOf<tg::nn::Linear> layers;
    Deep() {
      for (int i = 0; i < 3; ++i) layers.push_back(4, 4);  // Linear(4, 4), no type named
      register_module("layers", layers);
    }
    Tensor forward(Tensor x) const {
      for (const tg::nn::Linear& layer : layers) x = tg::relu(layer(x));  // as PyTorch's `for layer in self.layers`
      return x;
    }
  };
  Deep model;
  CHECK(model.forward(tg::ones({2, 4})).shape() == tg::Shape{2, 4});
  CHECK(model.layers[2].out_features() == 4);
  CHECK(model.named_parameters()[0].first == "layers.0.weight");
  CHECK(model.named_parameters().size() == 6);
  tg::nn::ModuleList any;  // still any modules, Module& each
  any.push_back<tg::nn::Linear>(2, 2);
  CHECK(any.at<tg::nn::Linear>(0).in_features() == 2);
  CHECK_THROWS_WITH_AS(model.layers[3], doctest::Contains("index 3 is out of range for a list of 3 modules"), tg::Error);
}

TEST_CASE("type promotion follows torch.result_type for every pair of dtypes, dimensioned or zero-dim") {
  const DType order[] = {DType::f32, DType::f64, DType::i64, DType::boolean, DType::f16, DType::bf16};
  const FixtureTensor& table = entry(fixture(), "result_type");
  const tg::Shape shapes[] = {tg::Shape{2}, tg::Shape{}};
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j)
      for (int da = 0; da < 2; ++da)
        for (int db = 0; db < 2; ++db) {
          const Tensor a = tg::zeros(shapes[da], {order[i]}), b = tg::zeros(shapes[db], {order[j]});
          const DType want = order[static_cast<int>(table.values[static_cast<size_t>(((i * 6 + j) * 2 + da) * 2 + db)])];
          CAPTURE(tg::dtype_name(order[i]));
          CAPTURE(tg::dtype_name(order[j]));
          CAPTURE(da);
          CAPTURE(db);
          CHECK(tg::dtype_name(tg::result_type(a, b)) == tg::dtype_name(want));
        }
}

TEST_CASE("mixed dtypes compute in the result type; each operand's gradient comes back in its own dtype") {
  const Tensor a = tg::tensor({1.5f, 2.0f}, {2}, true);                        // float32
  const Tensor b = tg::ones({2}, {.dtype = DType::f64, .requires_grad = true});  // float64
  const Tensor y = a * b + a;
  CHECK(y.dtype() == DType::f64);
  tg::sum(y).backward();
  CHECK(a.grad().dtype() == DType::f32);
  CHECK(a.grad().to_vector<double>() == std::vector<double>{2, 2});
  CHECK(b.grad().to_vector<double>() == std::vector<double>{1.5, 2});
  // A zero-dim float64 does not widen a float32 tensor; an int64 tensor meets a float as the float.
  CHECK((a + tg::scalar(1.0, {DType::f64})).dtype() == DType::f32);
  CHECK((tg::index_tensor({1, 2}) + a).dtype() == DType::f32);
  CHECK((tg::index_tensor({1, 2}) + a).to_vector<float>() == std::vector<float>{2.5f, 4.0f});
  // bool with int64 is int64 (the exact integer path); comparisons and where promote too.
  const Tensor mask = tg::gt(a, 1.8);
  CHECK((mask + tg::index_tensor({5, 5})).to_vector<int64_t>() == std::vector<int64_t>{5, 6});
  CHECK(tg::lt(tg::index_tensor({1, 3}), a).to(DType::f64).to_vector<double>() == std::vector<double>{1, 0});
  CHECK(tg::where(mask, a, tg::zeros({2}, {DType::f64})).dtype() == DType::f64);
}
