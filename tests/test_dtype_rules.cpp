// PyTorch's arithmetic type rules, so that code translated from PyTorch
// computes the same numbers: the dtype of `tensor op number` for every dtype,
// number kind and promoting op (torch.result_type with a scalar operand);
// `/` as true division; floor and truncating division, remainder and fmod
// with their gradients; cumsum of integers and of any rank; matmul's 1-D
// rules with gradients; arange's dtypes; one_hot; calling a module of your
// own; int8 as storage. Values from tests/fixtures/make_dtype_rule_fixtures.py (Debian's
// PyTorch) -> dtype_rules.txt, and float64 gradchecks.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Scalar;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("dtype_rules.txt");
  return loaded;
}

Tensor f64(const std::string& name, bool requires_grad = false) {
  return fixture_tensor(fixture(), name, DType::f64, requires_grad);
}
Tensor i64(const std::string& name) { return fixture_tensor(fixture(), name, DType::f64).to(DType::i64); }

const DType kOrder[] = {DType::f32, DType::f64, DType::i64, DType::boolean, DType::f16, DType::bf16};

}  // namespace

TEST_CASE("tensor op number: the dtype torch gives, for every dtype, number kind and promoting op") {
  using Op = std::function<Tensor(const Tensor&, Scalar)>;
  const std::vector<std::pair<std::string, Op>> ops = {
      {"add", [](const Tensor& t, Scalar s) { return t + s; }},
      {"sub", [](const Tensor& t, Scalar s) { return t - s; }},
      {"rsub", [](const Tensor& t, Scalar s) { return s - t; }},
      {"mul", [](const Tensor& t, Scalar s) { return t * s; }},
      {"div", [](const Tensor& t, Scalar s) { return t / s; }},
      {"rdiv", [](const Tensor& t, Scalar s) { return s / t; }},
      {"floor_divide", [](const Tensor& t, Scalar s) { return tg::floor_divide(t, s); }},
      {"remainder", [](const Tensor& t, Scalar s) { return tg::remainder(t, s); }},
      {"pow", [](const Tensor& t, Scalar s) { return tg::pow(t, s); }},
      {"where", [](const Tensor& t, Scalar s) { return tg::where(tg::tensor({1.0, 0.0}, {2}, {.dtype = tg::DType::f64}).to(DType::boolean), t, s); }},
  };
  const FixtureTensor& table = entry(fixture(), "scalar_result_type");
  const Scalar numbers[] = {2, 0.5};
  for (size_t k = 0; k < ops.size(); ++k)
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 2; ++j) {
        const int code = static_cast<int>(table.values[(k * 6 + static_cast<size_t>(i)) * 2 + static_cast<size_t>(j)]);
        CAPTURE(ops[k].first);
        CAPTURE(tg::dtype_name(kOrder[i]));
        CAPTURE(j == 0 ? "2" : "0.5");
        // The rule itself, for every dtype (float16 and bfloat16 are storage types here: their arithmetic is
        // refused, so only the rule is compared for them).
        const bool promoting = ops[k].first == "add" || ops[k].first == "mul" || ops[k].first == "where";
        if (code >= 0 && promoting) CHECK(tg::dtype_name(tg::scalar_result_type(kOrder[i], numbers[j])) ==
                                          tg::dtype_name(kOrder[code]));
        if (i >= 4) continue;
        const Tensor t = tg::ones({2}, {kOrder[i]});
        if (code < 0) {  // PyTorch refuses it (subtracting bools): so do we, with a message
          CHECK_THROWS_WITH_AS(ops[k].second(t, numbers[j]), doctest::Contains("bool"), tg::Error);
          continue;
        }
        CHECK(tg::dtype_name(ops[k].second(t, numbers[j]).dtype()) == tg::dtype_name(kOrder[code]));
      }
}

TEST_CASE("`/` is true division for integers; floor and truncating division, remainder and fmod as PyTorch's") {
  const Tensor a = i64("a_int"), b = i64("b_int");
  check_fixture_close(fixture(), a / b, "int_div", 1e-7);
  CHECK((a / b).dtype() == DType::f32);
  check_fixture_close(fixture(), a / 2, "int_div_2", 1e-7);
  const auto exact = [](const Tensor& got, const std::string& name) {  // integers: equal (to 1e-15 of 1)
    CAPTURE(name);
    CHECK(got.dtype() == DType::i64);
    check_fixture_close(fixture(), got, name, 1e-15);
  };
  exact(tg::floor_divide(a, b), "int_floor_divide");
  exact(tg::div(a, b, tg::RoundingMode::trunc), "int_trunc_divide");
  exact(tg::remainder(a, b), "int_remainder");
  exact(a % b, "int_remainder");
  exact(tg::fmod(a, b), "int_fmod");
  exact(a % 3, "int_remainder_3");
  CHECK_THROWS_WITH_AS(tg::floor_divide(a, 0), doctest::Contains("int64 division by zero"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::remainder(a, tg::zeros_like(b)), doctest::Contains("int64 division by zero"), tg::Error);
  // Floats: the rounded quotients, and remainder / fmod with gradients (the quotient held fixed).
  const Tensor x = f64("a"), y = f64("b");
  check_fixture_close(fixture(), tg::floor_divide(x, y), "floor_divide");
  check_fixture_close(fixture(), tg::div(x, y, tg::RoundingMode::trunc), "trunc_divide");
  check_fixture_close(fixture(), tg::floor_divide(x, 2), "floor_divide_2");
  for (const std::string name : {"remainder", "fmod"}) {
    CAPTURE(name);
    const Tensor xa = f64("a", true), yb = f64("b", true);
    const Tensor out = name == "remainder" ? tg::remainder(xa, yb) : tg::fmod(xa, yb);
    check_fixture_close(fixture(), out, name);
    tg::sum(out * f64("w")).backward();
    check_fixture_close(fixture(), xa.grad(), name + ".grad_a");
    check_fixture_close(fixture(), yb.grad(), name + ".grad_b");
  }
  CHECK_FALSE(tg::floor_divide(f64("a", true), 2).requires_grad());  // no gradient through a rounded quotient
}

TEST_CASE("bool subtraction is refused as PyTorch refuses it; integer powers stay int64") {
  const Tensor flags = tg::gt(tg::tensor({1.0f, -1.0f}, {2}), 0.0);
  CHECK_THROWS_WITH_AS(flags - 1, doctest::Contains("sub_scalar: a bool tensor cannot be subtracted"), tg::Error);
  CHECK((flags + 1).to_vector<int64_t>() == std::vector<int64_t>{2, 1});
  CHECK_THROWS_AS(flags + flags, tg::Error);  // PyTorch gives bool (a logical or): refused, not something else
  CHECK_THROWS_AS(tg::ones({2}, {DType::f16}) + 1, tg::Error);  // a storage type: arithmetic refused
  CHECK(tg::pow(tg::index_tensor({2, 3}), 2).to_vector<int64_t>() == std::vector<int64_t>{4, 9});
  CHECK(tg::pow(tg::index_tensor({2, 3}), 0.5).dtype() == DType::f32);
  CHECK_THROWS_WITH_AS(tg::pow(tg::index_tensor({2}), -1), doctest::Contains("negative integer power"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::pow(tg::index_tensor({int64_t{1} << 40}), 2), doctest::Contains("int64 overflow"), tg::Error);
}

TEST_CASE("a zero-dim tensor with a number stays zero-dim, as PyTorch's") {
  const Tensor i = tg::index_tensor({5}).reshape(tg::Shape{});
  CHECK((i + 2).ndim() == 0);
  CHECK((i / 2).ndim() == 0);
  CHECK(tg::pow(i, 2).ndim() == 0);
  CHECK((i % 3).ndim() == 0);
  CHECK(tg::floor_divide(tg::scalar(7.5), 2).ndim() == 0);
  CHECK(tg::sum(i).ndim() == 0);
  CHECK(tg::where(tg::gt(tg::scalar(1.0), 0.0), tg::scalar(2.0), 0.0).ndim() == 0);
}

TEST_CASE("sum of integers is exact int64, past float64's 2^53") {
  const Tensor big = tg::index_tensor({(int64_t{1} << 53) + 1, 1});
  CHECK(tg::sum(big).to_vector<int64_t>() == std::vector<int64_t>{(int64_t{1} << 53) + 2});
  const Tensor x = tg::arange(12).reshape({2, 3, 2});
  CHECK(tg::sum(x, {1}, true).shape() == tg::Shape{2, 1, 2});
  CHECK(tg::sum(x, {0, 2}).to_vector<int64_t>() == std::vector<int64_t>{14, 22, 30});
  CHECK(tg::gt(x, 4).sum().to_vector<int64_t>() == std::vector<int64_t>{7});  // a bool count
  CHECK_THROWS_WITH_AS(tg::sum(tg::index_tensor({INT64_MAX, 1})), doctest::Contains("int64 overflow"), tg::Error);
}

TEST_CASE("cumsum: integers exactly as int64, 1-D and 3-D floats with the gradient, any dim") {
  const Tensor ints = tg::index_tensor({3, -1, 4, 1, -5, 9});
  CHECK(tg::cumsum(ints, 0).dtype() == DType::i64);
  check_fixture_close(fixture(), tg::cumsum(ints, 0), "cumsum_int", 1e-15);
  check_fixture_close(fixture(), tg::cumsum(tg::index_tensor({1, 0, 1, 1}).to(DType::boolean), -1), "cumsum_bool", 1e-15);
  const Tensor v = f64("v", true);
  const Tensor y = v.cumsum(0);
  check_fixture_close(fixture(), y, "cumsum_1d");
  tg::sum(y * f64("wv")).backward();
  check_fixture_close(fixture(), v.grad(), "cumsum_1d.grad");
  const Tensor x3 = f64("x3", true);
  const Tensor y3 = tg::cumsum(x3, 1);
  check_fixture_close(fixture(), y3, "cumsum_3d");
  tg::sum(y3 * f64("w3")).backward();
  check_fixture_close(fixture(), x3.grad(), "cumsum_3d.grad");
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::cumsum(in[0], -1); }, {f64("x3", true)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::cumsum(in[0], 0); }, {f64("v", true)});
}

TEST_CASE("prod and cumprod: values and gradients as PyTorch's, rows with one zero and with two; integers exact") {
  for (const std::string name : {"prod_axis1", "prod_all", "prod_axis0_keep", "cumprod_1"}) {
    CAPTURE(name);
    const Tensor x = f64("pm", true);
    const Tensor y = name == "prod_axis1"        ? tg::prod(x, 1)
                     : name == "prod_all"        ? tg::prod(x)
                     : name == "prod_axis0_keep" ? tg::prod(x, 0, true)
                                                 : tg::cumprod(x, 1);
    check_fixture_close(fixture(), y, name);
    tg::sum(y * f64(name + ".weight")).backward();
    check_fixture_close(fixture(), x.grad(), name + ".grad");
  }
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::prod(in[0], 1); }, {f64("pm", true)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::cumprod(in[0], 0); }, {f64("pm", true)});
  const Tensor ints = tg::index_tensor({2, -3, 4, 5, 1, -2}).reshape({2, 3});
  CHECK(tg::prod(ints, 1).dtype() == DType::i64);
  check_fixture_close(fixture(), tg::prod(ints, 1), "prod_int", 1e-15);
  check_fixture_close(fixture(), tg::cumprod(tg::index_tensor({2, -3, 4, 5}), 0), "cumprod_int", 1e-15);
  CHECK_THROWS_WITH_AS(tg::prod(tg::index_tensor({int64_t{1} << 40, int64_t{1} << 40})), doctest::Contains("int64 overflow"),
                       tg::Error);
  CHECK(tg::prod(tg::zeros({2, 0}), 1).to_vector<float>() == std::vector<float>{1, 1});  // the empty product
}

TEST_CASE("matmul's 1-D rules (dot, mv, a vector against a batch), values and gradients as torch.matmul's") {
  for (const std::string name : {"dot", "mv", "vm_batched", "batched_mv"}) {
    CAPTURE(name);
    const Tensor left = f64(name + ".left", true), right = f64(name + ".right", true);
    const Tensor out = tg::matmul(left, right);
    check_fixture_close(fixture(), out, name);
    tg::sum(out * f64(name + ".weight")).backward();
    check_fixture_close(fixture(), left.grad(), name + ".grad_left");
    check_fixture_close(fixture(), right.grad(), name + ".grad_right");
    check_gradcheck([](const std::vector<Tensor>& in) { return tg::matmul(in[0], in[1]); },
                    {f64(name + ".left", true), f64(name + ".right", true)});
  }
  CHECK(tg::dot(f64("dot.left"), f64("dot.right")).ndim() == 0);
  CHECK(tg::mv(f64("mv.left"), f64("mv.right")).shape() == tg::Shape{3});
  CHECK_THROWS_WITH_AS(tg::dot(f64("mv.left"), f64("mv.right")), doctest::Contains("dot: (3, 4) and (4,): both must be 1-D"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::matmul(f64("dot.left"), tg::zeros({3}, {DType::f64})),
                       doctest::Contains("inner dimensions 4 and 3 differ"), tg::Error);
}

TEST_CASE("arange: int64 from integers, float32 from floats; one_hot; x.dim(), x.view(shape)") {
  const FixtureTensor& codes = entry(fixture(), "arange_dtypes");
  const DType got[] = {tg::arange(5).dtype(), tg::arange(1, 10, 3).dtype(), tg::arange(0.0, 1.0, 0.25).dtype(),
                       tg::arange(0, 1.0, 0.25).dtype()};
  for (size_t i = 0; i < 4; ++i) CHECK(tg::dtype_name(got[i]) == tg::dtype_name(kOrder[static_cast<int>(codes.values[i])]));
  check_fixture_close(fixture(), tg::arange(1, 10, 3), "arange_1_10_3", 1e-15);
  check_fixture_close(fixture(), tg::arange(5, -4, -3), "arange_neg", 1e-15);
  CHECK(tg::arange(5, {DType::f64}).dtype() == DType::f64);  // TensorOptions given: its dtype
  const Tensor hot = tg::one_hot(tg::reshape(tg::index_tensor({0, 2, 1, 0}), tg::Shape{2, 2}), 4);
  CHECK(hot.dtype() == DType::i64);
  check_fixture_close(fixture(), hot, "one_hot", 1e-15);
  CHECK(tg::one_hot(tg::index_tensor({1, 3})).shape() == tg::Shape{2, 4});
  CHECK_THROWS_WITH_AS(tg::one_hot(tg::index_tensor({1, 5}), 4), doctest::Contains("index 5 at position 1 is outside [0, 4)"),
                       tg::Error);
  const Tensor m = tg::zeros({2, 6});
  CHECK(m.dim() == 2);
  CHECK(m.view({3, 4}).shape() == tg::Shape{3, 4});
  CHECK_THROWS_WITH_AS(m.transpose(0, 1).view({12}), doctest::Contains("not contiguous"), tg::Error);
}

namespace {

// A module of one's own, called as the built-in ones are (nn::CallableModule).
struct Doubler : tg::nn::CallableModule<Doubler> {
  Tensor forward(const Tensor& x, double extra = 0) const { return x * 2 + extra; }
};

}  // namespace

TEST_CASE("comparisons with a number promote as PyTorch's: int64 == 0.5 is false, a float32 tensor rounds the number") {
  const Tensor ints = tg::tensor({0, 1, 2, 16777217});  // int64, as torch.tensor([0, 1, 2, 16777217])
  CHECK(ints.dtype() == DType::i64);
  const Tensor flags = tg::tensor(std::vector<double>{1, 0}, {2}).to(DType::boolean);
  const std::vector<std::pair<std::string, Tensor>> results = {
      {"int_eq_half", tg::eq(ints, 0.5)},
      {"int_lt_1_5", ints < 1.5},
      {"int_eq_2", tg::eq(ints, 2)},
      {"int_eq_2p24", tg::eq(ints, 16777216.0)},
      {"f32_eq_2p24_plus_1", tg::eq(tg::tensor(std::vector<float>{16777216.0f}, {1}), 16777217.0)},
      {"bool_eq_1", tg::eq(flags, 1)},
      {"bool_lt_half", flags < 0.5}};
  for (const auto& result : results) {
    CAPTURE(result.first);
    CHECK(result.second.dtype() == DType::boolean);
    check_fixture_close(fixture(), result.second, "compare." + result.first, 1e-12);  // 0 or 1
  }
}

TEST_CASE("a module of your own is called with model(x), whatever arguments its forward takes") {
  const Doubler model;
  CHECK(model(tg::tensor({1.0f, 2.0f}, {2})).to_vector<float>() == std::vector<float>{2, 4});
  CHECK(model(tg::tensor({1.0f}, {1}), 0.5).to_vector<float>() == std::vector<float>{2.5f});
}

TEST_CASE("a tensor-method-heavy PyTorch program, translated line for line, gives PyTorch's values and dtypes") {
  // make_dtype_rule_fixtures.py has the Python; each line here is its translation, no dtype added.
  const Tensor x = tg::arange(12).reshape({3, 4});                    // x = torch.arange(12).reshape(3, 4)
  const Tensor share = x / x.sum(1, true);                            // x / x.sum(1, keepdim=True)
  const Tensor thirds = tg::eq(x % 3, 0).sum();                       // (x % 3 == 0).sum()
  const Tensor smooth = x.cumsum(1).to(DType::f32).softmax(-1);       // x.cumsum(1).float().softmax(-1)
  const Tensor top = smooth.topk(2).indices;                          // smooth.topk(2).indices
  const Tensor picked = smooth.gather(1, top);                        // smooth.gather(1, top)
  const Tensor kept = tg::where(picked > 0.3, picked, 0.0);           // torch.where(picked > 0.3, picked, 0.0)
  const Tensor row_sums = x.to(DType::f32).matmul(tg::ones({4}));     // x.float() @ torch.ones(4)
  const Tensor scaled = tg::floor_divide(x * 0.5 + 1, 2);             // (x * 0.5 + 1) // 2
  const Tensor hot = tg::one_hot(tg::floor_divide(tg::select(x, 1, 0), 4), 3);  // F.one_hot(x[:, 0] // 4, 3)
  const Tensor distance = (x - 5).abs();                              // (x - 5).abs()
  const Tensor negated = -tg::select(x, 1, 1);                        // -x[:, 1]
  const std::vector<std::pair<std::string, Tensor>> results = {
      {"share", share}, {"thirds", thirds}, {"smooth", smooth}, {"top", top}, {"picked", picked},
      {"kept", kept},   {"row_sums", row_sums}, {"scaled", scaled}, {"hot", hot}, {"distance", distance},
      {"negated", negated}};
  for (const auto& result : results) {
    const std::string& name = result.first;  // a named reference: clang 14 cannot capture a structured binding
    const Tensor& value = result.second;
    CAPTURE(name);
    CHECK(tg::dtype_name(value.dtype()) ==
          tg::dtype_name(kOrder[static_cast<int>(entry(fixture(), "program." + name + ".dtype").values[0])]));
    check_fixture_close(fixture(), value, "program." + name, 1e-6);
  }
}

TEST_CASE("int8 stores (quantized codes): promotion as PyTorch's; arithmetic asks for a cast") {
  // torch.promote_types: int8 with int64 -> int64, with bool -> int8, with a float type -> that float type.
  CHECK(tg::promote_types(DType::i8, DType::i64) == DType::i64);
  CHECK(tg::promote_types(DType::boolean, DType::i8) == DType::i8);
  CHECK(tg::promote_types(DType::i8, DType::f16) == DType::f16);
  CHECK(tg::promote_types(DType::f32, DType::i8) == DType::f32);
  CHECK(tg::scalar_result_type(DType::i8, Scalar(3)) == DType::i8);  // torch: int8 tensor + 3 stays int8
  CHECK(tg::scalar_result_type(DType::i8, Scalar(0.5)) == DType::f32);
  const Tensor q = tg::from_vector(std::vector<int8_t>{1, -2}, tg::Shape{2}, {DType::i8});
  CHECK_THROWS_WITH_AS(tg::add(q, q), doctest::Contains("got int8"), tg::Error);
  CHECK(tg::add(q.to(DType::i64), q.to(DType::i64)).to_vector<int64_t>() == std::vector<int64_t>{2, -4});
  CHECK(tg::add(q, tg::tensor({0.5f, 0.5f}, {2})).to_vector<float>() == std::vector<float>{1.5f, -1.5f});
}
