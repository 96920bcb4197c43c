// Shape, indexing and selection ops: forward values worked out by hand,
// float64 finite-difference gradient checks, error messages, and the same
// forward results under the reference backend.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backends/reference/reference_backend.h"
#include "tapegrad.h"
#include "test_support.h"

namespace {

using test_support::check_gradcheck;
using tg::Shape;
using tg::Tensor;

// A float32 tensor holding `values` with `shape`.
Tensor f32(const std::vector<float>& values, const Shape& shape) { return tg::tensor(values, shape); }

// Standard-normal float64 leaf that requires grad, for gradcheck.
Tensor rand64(const Shape& shape, tg::Generator& gen) {
  return tg::randn(shape, {tg::DType::f64, tg::Device::cpu(), true}, gen);
}

// The elements of t in row-major order equal `expected` (and the shape matches).
void check_values(const Tensor& t, const Shape& shape, const std::vector<double>& expected) {
  REQUIRE(t.shape() == shape);
  const std::vector<double> got = t.to(tg::DType::f64).to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK_MESSAGE(got[i] == doctest::Approx(expected[i]), "element ", i);
}

// Runs `body` under the cpu backend and again under the reference backend.
template <typename Fn>
void on_both_backends(Fn&& body) {
  {
    INFO("cpu backend");
    body();
  }
  {
    INFO("reference backend");
    tg::HostBackendScope scope(tg::reference_backend());
    body();
  }
}

// 0, 1, ..., n-1 as float32 with `shape`.
Tensor iota(const Shape& shape) {
  std::vector<float> v(shape.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return f32(v, shape);
}

}  // namespace

// ---------------------------------------------------------------------------
// reshape, flatten, unsqueeze, squeeze

TEST_CASE("reshape: values, -1 inference and storage sharing") {
  on_both_backends([] {
    const Tensor x = iota({2, 3});
    check_values(tg::reshape(x, {3, 2}), {3, 2}, {0, 1, 2, 3, 4, 5});
    check_values(tg::reshape(x, {-1}), {6}, {0, 1, 2, 3, 4, 5});
    check_values(tg::reshape(x, {3, -1}), {3, 2}, {0, 1, 2, 3, 4, 5});
    check_values(tg::reshape(x, {1, -1, 2}), {1, 3, 2}, {0, 1, 2, 3, 4, 5});
  });
  // A contiguous source is viewed, not copied: writes show through.
  const Tensor x = iota({2, 3});
  const Tensor y = tg::reshape(x, {3, 2});
  x.data<float>()[3] = 42;
  CHECK(y.at({1, 1}) == 42);
}

TEST_CASE("reshape: a non-contiguous input is copied in row-major order") {
  const Tensor x = iota({2, 3});
  const Tensor t = tg::transpose(x, 0, 1);  // (3, 2): [[0, 3], [1, 4], [2, 5]]
  REQUIRE_FALSE(t.is_contiguous());
  const Tensor y = tg::reshape(t, {6});
  check_values(y, {6}, {0, 3, 1, 4, 2, 5});
  x.data<float>()[0] = 100;  // the copy is independent of x
  CHECK(y.at({0}) == 0);
  {
    tg::HostBackendScope scope(tg::reference_backend());
    check_values(tg::reshape(tg::transpose(iota({2, 3}), 0, 1), {2, 3}), {2, 3}, {0, 3, 1, 4, 2, 5});
  }
}

TEST_CASE("reshape: gradients") {
  tg::Generator gen(1);
  const Tensor x = rand64({2, 3, 4}, gen);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::reshape(in[0], {4, -1}); }, {x});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::reshape(tg::transpose(in[0], 0, 2), {-1, 6}); },
                  {x});
  // The gradient of a view lands on the source in the source's layout.
  const Tensor a = tg::tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, true);
  const Tensor y = tg::reshape(a, {3, 2});
  y.backward(tg::tensor(std::vector<double>{10, 20, 30, 40, 50, 60}, {3, 2}));
  check_values(a.grad(), {2, 3}, {10, 20, 30, 40, 50, 60});
}

TEST_CASE("reshape: errors") {
  const Tensor x = iota({2, 3});
  CHECK_THROWS_WITH_AS(tg::reshape(x, {4, 2}), doctest::Contains("cannot view (2, 3)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::reshape(x, {-1, -1}), doctest::Contains("only one dimension may be -1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::reshape(x, {4, -1}), doctest::Contains("cannot view"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::reshape(x, {-2, 3}), doctest::Contains("invalid size -2"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::reshape(Tensor(), {1}), doctest::Contains("undefined"), tg::Error);
}

TEST_CASE("flatten") {
  const Tensor x = iota({2, 3, 4});
  check_values(tg::flatten(x), {24}, std::vector<double>(x.to_vector<double>()));
  CHECK(tg::flatten(x, 1).shape() == Shape{2, 12});
  CHECK(tg::flatten(x, 0, 1).shape() == Shape{6, 4});
  CHECK(tg::flatten(x, -2, -1).shape() == Shape{2, 12});
  CHECK(tg::flatten(x, 1, 1).shape() == Shape{2, 3, 4});
  CHECK(tg::flatten(tg::scalar(7)).shape() == Shape{1});
  check_values(tg::flatten(tg::transpose(iota({2, 2, 2}), 0, 2), 0, 1), {4, 2}, {0, 4, 2, 6, 1, 5, 3, 7});
  CHECK_THROWS_WITH_AS(tg::flatten(x, 2, 1), doctest::Contains("start axis 2 is after end axis 1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::flatten(x, 3), doctest::Contains("axis 3 is out of range"), tg::Error);
  tg::Generator gen(2);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::flatten(tg::transpose(in[0], 0, 1), 1); },
                  {rand64({2, 3, 2}, gen)});
}

TEST_CASE("unsqueeze and squeeze") {
  const Tensor x = iota({2, 3});
  CHECK(tg::unsqueeze(x, 0).shape() == Shape{1, 2, 3});
  CHECK(tg::unsqueeze(x, 1).shape() == Shape{2, 1, 3});
  CHECK(tg::unsqueeze(x, -1).shape() == Shape{2, 3, 1});
  check_values(tg::unsqueeze(x, 1), {2, 1, 3}, {0, 1, 2, 3, 4, 5});
  const Tensor y = iota({2, 1, 3});
  check_values(tg::squeeze(y, 1), {2, 3}, {0, 1, 2, 3, 4, 5});
  CHECK(tg::squeeze(iota({1}), 0).shape() == Shape{});
  CHECK_THROWS_WITH_AS(tg::squeeze(y, 0), doctest::Contains("dimension 0 of (2, 1, 3) has size 2, not 1"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::unsqueeze(x, 3), doctest::Contains("unsqueeze: axis 3 is out of range"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::squeeze(y, -4), doctest::Contains("squeeze: axis -4 is out of range"), tg::Error);
  tg::Generator gen(3);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::squeeze(tg::unsqueeze(in[0], 1), 1) * in[0]; },
                  {rand64({3, 2}, gen)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::unsqueeze(tg::transpose(in[0], 0, 1), 0); },
                  {rand64({3, 2}, gen)});
}

// ---------------------------------------------------------------------------
// permute, transpose

TEST_CASE("permute and transpose: values and shared storage") {
  on_both_backends([] {
    const Tensor x = iota({2, 3, 4});
    const Tensor p = tg::permute(x, {2, 0, 1});  // p[k, i, j] = x[i, j, k] = 12i + 4j + k
    CHECK(p.shape() == Shape{4, 2, 3});
    CHECK(p.at({3, 1, 2}) == 12 + 8 + 3);
    CHECK(p.at({1, 0, 2}) == 8 + 1);
    // contiguous() materialises the permuted order.
    check_values(tg::permute(iota({2, 3}), {1, 0}).contiguous(), {3, 2}, {0, 3, 1, 4, 2, 5});
    const Tensor t = tg::transpose(x, 0, -1);
    CHECK(t.shape() == Shape{4, 3, 2});
    CHECK(t.at({2, 1, 1}) == 12 + 4 + 2);
  });
  const Tensor x = iota({2, 3});
  const Tensor t = tg::transpose(x, 0, 1);
  const Tensor p = tg::permute(x, {1, 0});
  CHECK_FALSE(t.is_contiguous());
  x.data<float>()[5] = -7;  // x[1, 2]
  CHECK(t.at({2, 1}) == -7);
  CHECK(p.at({2, 1}) == -7);
}

TEST_CASE("permute and transpose: gradients") {
  tg::Generator gen(4);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::permute(in[0], {1, 2, 0}); },
                  {rand64({2, 3, 4}, gen)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::transpose(in[0], -1, 0); },
                  {rand64({2, 3, 4}, gen)});
  // Through a matmul, which reads the transposed strides.
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::matmul(tg::transpose(in[0], 0, 1), in[1]); },
                  {rand64({3, 2}, gen), rand64({3, 4}, gen)});
  const Tensor a = tg::tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, true);
  tg::transpose(a, 0, 1).backward(tg::tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}));
  check_values(a.grad(), {2, 3}, {1, 3, 5, 2, 4, 6});
}

TEST_CASE("permute and transpose: errors") {
  const Tensor x = iota({2, 3, 4});
  CHECK_THROWS_WITH_AS(tg::permute(x, {0, 1}), doctest::Contains("2 dims given for a tensor of rank 3"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::permute(x, {0, 1, 1}), doctest::Contains("dimension 1 appears twice"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::permute(x, {0, 1, 3}), doctest::Contains("axis 3 is out of range"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::transpose(x, 0, 5), doctest::Contains("transpose: axis 5 is out of range"), tg::Error);
}

// ---------------------------------------------------------------------------
// slice, select

TEST_CASE("slice: values, Python bounds and clamping") {
  on_both_backends([] {
    const Tensor v = iota({10});
    check_values(tg::slice(v, 0, 2, 5), {3}, {2, 3, 4});
    check_values(tg::slice(v, 0, 1, 8, 3), {3}, {1, 4, 7});
    check_values(tg::slice(v, 0, 1, 9, 3), {3}, {1, 4, 7});
    check_values(tg::slice(v, 0, -3, 10), {3}, {7, 8, 9});
    check_values(tg::slice(v, 0, 0, -8), {2}, {0, 1});
    check_values(tg::slice(v, 0, -100, 2), {2}, {0, 1});
    check_values(tg::slice(v, 0, 8, 100), {2}, {8, 9});
    CHECK(tg::slice(v, 0, 5, 3).shape() == Shape{0});
    CHECK(tg::slice(v, 0, 20, 30).shape() == Shape{0});
    const Tensor m = iota({3, 4});
    check_values(tg::slice(m, 1, 1, 4, 2), {3, 2}, {1, 3, 5, 7, 9, 11});
    check_values(tg::slice(m, -2, 1, 3), {2, 4}, {4, 5, 6, 7, 8, 9, 10, 11});
    // A slice of a transposed view: t = [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]].
    check_values(tg::slice(tg::transpose(m, 0, 1), 0, 1, 3), {2, 3}, {1, 5, 9, 2, 6, 10});
  });
  const Tensor m = iota({3, 4});
  const Tensor s = tg::slice(m, 1, 1, 3);
  m.data<float>()[6] = 99;  // m[1, 2] = s[1, 1]
  CHECK(s.at({1, 1}) == 99);
}

TEST_CASE("slice: gradients") {
  tg::Generator gen(5);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::slice(in[0], 1, 1, 5, 2); },
                  {rand64({3, 6}, gen)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::slice(tg::transpose(in[0], 0, 1), 0, -3, 6); },
                  {rand64({3, 6}, gen)});
  // Overlapping slices of one tensor: both contributions accumulate.
  check_gradcheck(
      [](const std::vector<Tensor>& in) { return tg::slice(in[0], 0, 0, 3) * tg::slice(in[0], 0, 1, 4); },
      {rand64({4, 2}, gen)});
  const Tensor a = tg::tensor(std::vector<double>{1, 2, 3, 4, 5}, {5}, true);
  tg::sum(tg::slice(a, 0, 0, 2) + tg::slice(a, 0, 1, 5, 2)).backward();  // a[0:2] + a[1], a[3]
  check_values(a.grad(), {5}, {1, 2, 0, 1, 0});
}

TEST_CASE("slice and select: the first gradient is written into its part, the rest zeroed, in reused memory") {
  std::vector<float> upstream(2 * 2 * 3);
  for (size_t i = 0; i < upstream.size(); ++i) upstream[i] = static_cast<float>(i) + 1;
  upstream[4] = -0.0f;  // kept as -0, as PyTorch's slice backward keeps it (0 + -0 would be +0)
  const Tensor x = tg::full({2, 5, 3}, 1.0, {tg::DType::f32}).requires_grad_();
  const Tensor dy = tg::tensor(upstream, {2, 2, 3});
  const Tensor loss = tg::sum(tg::slice(x, 1, 1, 3) * dy);  // x[:, 1:3, :]: zeros before (1 row) and after (2 rows)
  {  // the gradient's buffer comes from the allocator's cache: blocks of its size left holding 7s
    std::vector<Tensor> garbage;
    for (int i = 0; i < 4; ++i) garbage.push_back(tg::full({2, 5, 3}, 7.0, {tg::DType::f32}));
  }
  loss.backward();
  const std::vector<float> g = x.grad().to_vector<float>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t r = 0; r < 5; ++r)
      for (int64_t c = 0; c < 3; ++c) {
        CAPTURE(b);
        CAPTURE(r);
        CAPTURE(c);
        const float got = g[static_cast<size_t>((b * 5 + r) * 3 + c)];
        const float want = r >= 1 && r < 3 ? upstream[static_cast<size_t>((b * 2 + r - 1) * 3 + c)] : 0.0f;
        CHECK(got == want);
        CHECK(std::signbit(got) == std::signbit(want));
      }
  // A second read of the same tensor adds into the first's buffer.
  tg::sum(tg::select(x, 1, 4) * 2.0).backward();
  const std::vector<float> g2 = x.grad().to_vector<float>();
  CHECK(g2[(0 * 5 + 4) * 3 + 1] == 2.0f);
  CHECK(g2[(1 * 5 + 1) * 3 + 2] == g[(1 * 5 + 1) * 3 + 2]);
  // select first: its one row written, every other row zero.
  const Tensor y = tg::full({3, 4}, 1.0, {tg::DType::f32}).requires_grad_();
  tg::sum(tg::select(y, 0, 2) * 3.0).backward();
  check_values(y.grad(), {3, 4}, {0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3});
}

TEST_CASE("slice: errors") {
  const Tensor m = iota({3, 4});
  CHECK_THROWS_WITH_AS(tg::slice(m, 0, 0, 2, 0), doctest::Contains("step must be positive, got 0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::slice(m, 0, 2, 0, -1), doctest::Contains("step must be positive"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::slice(m, 2, 0, 1), doctest::Contains("slice: axis 2 is out of range"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::slice(tg::scalar(1), 0, 0, 1), doctest::Contains("cannot slice a scalar"), tg::Error);
}

TEST_CASE("select: values, negative index, view and gradients") {
  on_both_backends([] {
    const Tensor m = iota({3, 4});
    check_values(tg::select(m, 0, 1), {4}, {4, 5, 6, 7});
    check_values(tg::select(m, 1, -1), {3}, {3, 7, 11});
    check_values(tg::select(iota({2, 3, 2}), 1, 2), {2, 2}, {4, 5, 10, 11});
    CHECK(tg::select(iota({3}), 0, 2).shape() == Shape{});
    CHECK(tg::select(iota({3}), 0, 2).item() == 2);
  });
  const Tensor m = iota({3, 4});
  const Tensor row = tg::select(m, 0, 2);
  m.data<float>()[9] = -1;
  CHECK(row.at({1}) == -1);

  tg::Generator gen(6);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::select(in[0], 1, -2); }, {rand64({2, 3, 4}, gen)});
  check_gradcheck(
      [](const std::vector<Tensor>& in) { return tg::select(tg::transpose(in[0], 0, 2), 0, 1) * tg::select(in[0], 0, 3); },
      {rand64({4, 3, 4}, gen)});
  const Tensor a = tg::tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, true);
  tg::sum(tg::select(a, 1, 0) * 3.0).backward();
  check_values(a.grad(), {2, 3}, {3, 0, 0, 3, 0, 0});

  CHECK_THROWS_WITH_AS(tg::select(m, 0, 3), doctest::Contains("index 3 is out of range for dimension 0 of size 3"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::select(m, 1, -5), doctest::Contains("index -5 is out of range"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::select(m, 2, 0), doctest::Contains("select: axis 2 is out of range"), tg::Error);
}

// ---------------------------------------------------------------------------
// index_select, embedding

TEST_CASE("index_select: values along each axis, repeats allowed") {
  on_both_backends([] {
    const Tensor m = iota({3, 4});
    check_values(tg::index_select(m, 0, tg::index_tensor({2, 0, 2})), {3, 4},
                 {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
    check_values(tg::index_select(m, 1, tg::index_tensor({3, 1})), {3, 2}, {3, 1, 7, 5, 11, 9});
    check_values(tg::index_select(m, -1, tg::index_tensor({0})), {3, 1}, {0, 4, 8});
    // x (2, 3, 2) along the middle axis: x[i, j, k] = 6i + 2j + k.
    check_values(tg::index_select(iota({2, 3, 2}), 1, tg::index_tensor({1, 1, 0, 2})), {2, 4, 2},
                 {2, 3, 2, 3, 0, 1, 4, 5, 8, 9, 8, 9, 6, 7, 10, 11});
    // A non-contiguous source.
    check_values(tg::index_select(tg::transpose(m, 0, 1), 0, tg::index_tensor({2})), {1, 3}, {2, 6, 10});
    CHECK(tg::index_select(m, 0, tg::index_tensor(std::vector<int64_t>{}, {0})).shape() == Shape{0, 4});
  });
}

TEST_CASE("index_select: gradients and errors") {
  tg::Generator gen(7);
  const Tensor idx = tg::index_tensor({2, 0, 2, 1, 2});
  check_gradcheck([idx](const std::vector<Tensor>& in) { return tg::index_select(in[0], 0, idx); },
                  {rand64({3, 2}, gen)});
  check_gradcheck([idx](const std::vector<Tensor>& in) { return tg::index_select(in[0], 1, idx); },
                  {rand64({2, 3, 2}, gen)});
  check_gradcheck([idx](const std::vector<Tensor>& in) { return tg::index_select(tg::transpose(in[0], 0, 1), 2, idx); },
                  {rand64({2, 4, 3}, gen)});
  const Tensor a = tg::tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, true);
  tg::sum(tg::index_select(a, 1, tg::index_tensor({2, 2, 0}))).backward();
  check_values(a.grad(), {2, 3}, {1, 0, 2, 1, 0, 2});

  const Tensor m = iota({3, 4});
  CHECK_THROWS_WITH_AS(tg::index_select(m, 0, tg::index_tensor({1, 3})),
                       doctest::Contains("index_select: index 3 at row 1 is out of range for a table of 3 rows"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_select(m, 0, tg::index_tensor({-1})), doctest::Contains("index -1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_select(m, 0, f32({0, 1}, {2})),
                       doctest::Contains("index must be a 1-D int64 tensor, got float32 (2,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_select(m, 0, tg::index_tensor({0, 1}, {1, 2})),
                       doctest::Contains("1-D int64 tensor, got int64 (1, 2)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_select(m, 2, tg::index_tensor({0})), doctest::Contains("axis 2 is out of range"),
                       tg::Error);
}

TEST_CASE("embedding: values for an index of any shape") {
  on_both_backends([] {
    const Tensor table = iota({4, 3});  // row r = (3r, 3r + 1, 3r + 2)
    check_values(tg::embedding(table, tg::index_tensor({3, 0, 3}, {3})), {3, 3}, {9, 10, 11, 0, 1, 2, 9, 10, 11});
    check_values(tg::embedding(table, tg::index_tensor({1, 2, 0, 1}, {2, 2})), {2, 2, 3},
                 {3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5});
    check_values(tg::embedding(table, tg::index_tensor({2}, {1, 1, 1})), {1, 1, 1, 3}, {6, 7, 8});
    // A transposed index is read in its logical order.
    check_values(tg::embedding(table, tg::transpose(tg::index_tensor({0, 1, 2, 3}, {2, 2}), 0, 1)), {2, 2, 3},
                 {0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11});
  });
}

TEST_CASE("embedding: gradients, repeated and padding rows") {
  tg::Generator gen(8);
  const Tensor idx = tg::index_tensor({1, 3, 1, 0, 1, 2}, {2, 3});
  check_gradcheck([idx](const std::vector<Tensor>& in) { return tg::embedding(in[0], idx); }, {rand64({4, 3}, gen)});
  // The padding row gets no gradient although it is read; with the positions
  // that read it masked out of the result, its true gradient is zero too.
  const Tensor reads_padding = tg::unsqueeze(tg::eq(idx, 1.0), -1);
  check_gradcheck(
      [idx, reads_padding](const std::vector<Tensor>& in) {
        return tg::masked_fill(tg::embedding(in[0], idx, 1), reads_padding, 0);
      },
      {rand64({4, 3}, gen)});
  check_gradcheck([idx](const std::vector<Tensor>& in) { return tg::embedding(tg::transpose(in[0], 0, 1), idx); },
                  {rand64({2, 4}, gen)});

  // d table[r] = Σ over positions s with index[s] = r of dy[s]; dy[s] = (s+1) * (1, 1).
  const Tensor dy = tg::tensor(std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4}, {4, 2});
  const Tensor ids = tg::index_tensor({2, 0, 2, 1});
  const Tensor t1 = tg::zeros({3, 2}, {tg::DType::f64, tg::Device::cpu(), true});
  tg::embedding(t1, ids).backward(dy);
  check_values(t1.grad(), {3, 2}, {2, 2, 4, 4, 4, 4});
  // With padding_idx 2 the row for index 2 receives nothing; the others are unchanged.
  const Tensor t2 = tg::zeros({3, 2}, {tg::DType::f64, tg::Device::cpu(), true});
  const Tensor y2 = tg::embedding(t2, ids, 2);
  check_values(y2, {4, 2}, {0, 0, 0, 0, 0, 0, 0, 0});
  y2.backward(dy);
  check_values(t2.grad(), {3, 2}, {2, 2, 4, 4, 0, 0});
}

TEST_CASE("embedding: errors") {
  const Tensor table = iota({4, 3});
  CHECK_THROWS_WITH_AS(tg::embedding(table, tg::index_tensor({0, 4})),
                       doctest::Contains("embedding: index 4 at row 1 is out of range for a table of 4 rows"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::embedding(table, tg::index_tensor({-2})), doctest::Contains("embedding: index -2"),
                       tg::Error);
  {
    tg::HostBackendScope scope(tg::reference_backend());
    CHECK_THROWS_WITH_AS(tg::embedding(table, tg::index_tensor({5})),
                         doctest::Contains("embedding: index 5 at row 0 is out of range for a table of 4 rows"),
                         tg::Error);
  }
  CHECK_THROWS_WITH_AS(tg::embedding(table, f32({0}, {1})), doctest::Contains("index must be int64, got float32"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::embedding(iota({12}), tg::index_tensor({0})),
                       doctest::Contains("table must be (V, D), got shape (12,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::embedding(table, tg::index_tensor({0}), 4),
                       doctest::Contains("padding_idx 4 is out of range for a table of 4 rows"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::embedding(table, tg::index_tensor({0}), -3), doctest::Contains("padding_idx -3"),
                       tg::Error);
}

// ---------------------------------------------------------------------------
// concat, stack

TEST_CASE("concat: values") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3, 4}, {2, 2});
    const Tensor b = f32({5, 6}, {1, 2});
    const Tensor c = f32({7, 8, 9, 10, 11, 12}, {2, 3});
    check_values(tg::concat({a, b}, 0), {3, 2}, {1, 2, 3, 4, 5, 6});
    check_values(tg::concat({a, c}, 1), {2, 5}, {1, 2, 7, 8, 9, 3, 4, 10, 11, 12});
    check_values(tg::concat({a, c, a}, -1), {2, 7}, {1, 2, 7, 8, 9, 1, 2, 3, 4, 10, 11, 12, 3, 4});
    // A transposed input is copied in its logical order: aᵀ = [[1, 3], [2, 4]].
    check_values(tg::concat({tg::transpose(a, 0, 1), b}, 0), {3, 2}, {1, 3, 2, 4, 5, 6});
    check_values(tg::concat({a}, 0), {2, 2}, {1, 2, 3, 4});
    check_values(tg::concat({f32({1}, {1}), tg::zeros({0}), f32({2}, {1})}, 0), {2}, {1, 2});
  });
}

TEST_CASE("concat: gradients") {
  tg::Generator gen(9);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::concat({in[0], in[1], in[2]}, 1); },
                  {rand64({2, 1, 3}, gen), rand64({2, 2, 3}, gen), rand64({2, 3, 3}, gen)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::concat({tg::transpose(in[0], 0, 1), in[1], in[0]}, 0); },
                  {rand64({3, 3}, gen), rand64({2, 3}, gen)});
  // Only inputs that require grad get a gradient.
  const Tensor a = tg::tensor(std::vector<double>{1, 2}, {2}, true);
  const Tensor b = tg::tensor(std::vector<double>{3, 4, 5}, {3});
  tg::concat({b, a}, 0).backward(tg::tensor(std::vector<double>{10, 20, 30, 40, 50}, {5}));
  check_values(a.grad(), {2}, {40, 50});
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("concat: errors name the input and dimension") {
  const Tensor a = iota({2, 3});
  CHECK_THROWS_WITH_AS(tg::concat({a, a, iota({2, 4})}, 0),
                       doctest::Contains("input 2 has shape (2, 4) but input 0 has shape (2, 3): dimension 1 differs"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::concat({a, iota({2, 3, 1})}, 0),
                       doctest::Contains("input 1 has shape (2, 3, 1) (rank 3) but input 0 has shape (2, 3) (rank 2)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::concat({}, 0), doctest::Contains("concat: needs at least one tensor"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::concat({a, a.to(tg::DType::f64)}, 0), doctest::Contains("concat: dtypes differ"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::concat({a, Tensor()}, 0), doctest::Contains("input 1 is an undefined tensor"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::concat({a}, 2), doctest::Contains("concat: axis 2 is out of range"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::concat({tg::scalar(1)}, 0), doctest::Contains("cannot join scalars"), tg::Error);
}

TEST_CASE("stack: values, gradients and errors") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3}, {3});
    const Tensor b = f32({4, 5, 6}, {3});
    check_values(tg::stack({a, b}), {2, 3}, {1, 2, 3, 4, 5, 6});
    check_values(tg::stack({a, b}, 1), {3, 2}, {1, 4, 2, 5, 3, 6});
    check_values(tg::stack({a, b, a}, -1), {3, 3}, {1, 4, 1, 2, 5, 2, 3, 6, 3});
    check_values(tg::stack({tg::scalar(7), tg::scalar(8)}), {2}, {7, 8});
    const Tensor m = f32({1, 2, 3, 4}, {2, 2});
    check_values(tg::stack({m, tg::transpose(m, 0, 1)}, 1), {2, 2, 2}, {1, 2, 1, 3, 3, 4, 2, 4});
  });
  tg::Generator gen(10);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::stack({in[0], in[1], in[0]}, 1); },
                  {rand64({2, 3}, gen), rand64({2, 3}, gen)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::stack({tg::transpose(in[0], 0, 1), in[1]}, -1); },
                  {rand64({3, 2}, gen), rand64({2, 3}, gen)});

  const Tensor a = iota({2, 3});
  CHECK_THROWS_WITH_AS(tg::stack({a, iota({2, 4})}),
                       doctest::Contains("input 1 has shape (2, 4) but input 0 has shape (2, 3): dimension 1 differs"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::stack({a, iota({6})}), doctest::Contains("input 1 has shape (6,) (rank 1)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::stack({}), doctest::Contains("stack: needs at least one tensor"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::stack({a, a}, 3), doctest::Contains("stack: axis 3 is out of range"), tg::Error);
}

// ---------------------------------------------------------------------------
// comparisons, where, masked_fill

TEST_CASE("comparisons: masks with broadcasting, scalars and integers") {
  on_both_backends([] {
    const Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor b = f32({2, 2, 5}, {3});
    check_values(tg::eq(a, b), {2, 3}, {0, 1, 0, 0, 0, 0});
    check_values(tg::ne(a, b), {2, 3}, {1, 0, 1, 1, 1, 1});
    check_values(tg::lt(a, b), {2, 3}, {1, 0, 1, 0, 0, 0});
    check_values(tg::le(a, b), {2, 3}, {1, 1, 1, 0, 0, 0});
    check_values(tg::gt(a, b), {2, 3}, {0, 0, 0, 1, 1, 1});
    check_values(tg::ge(a, b), {2, 3}, {0, 1, 0, 1, 1, 1});
    check_values(tg::eq(a, 3.0), {2, 3}, {0, 0, 1, 0, 0, 0});
    check_values(tg::ne(a, 3.0), {2, 3}, {1, 1, 0, 1, 1, 1});
    check_values(tg::lt(a, 3.0), {2, 3}, {1, 1, 0, 0, 0, 0});
    check_values(tg::le(a, 3.0), {2, 3}, {1, 1, 1, 0, 0, 0});
    check_values(tg::gt(a, 3.0), {2, 3}, {0, 0, 0, 1, 1, 1});
    check_values(tg::ge(a, 3.0), {2, 3}, {0, 0, 1, 1, 1, 1});
    const Tensor ids = tg::index_tensor({0, 3, 1, 0});
    check_values(tg::eq(ids, 0.0), {4}, {1, 0, 0, 1});
    check_values(tg::gt(ids, tg::index_tensor({1})), {4}, {0, 1, 0, 0});
    check_values(tg::eq(tg::eq(ids, 0.0), tg::eq(ids, 3.0)), {4}, {0, 0, 1, 0});
  });
  const Tensor x = tg::tensor(std::vector<double>{1, 2}, {2}, true);
  const Tensor m = tg::lt(x, 1.5);
  CHECK(m.dtype() == tg::DType::boolean);
  CHECK_FALSE(m.requires_grad());
  CHECK(tg::lt(f32({1}, {1}), x).dtype() == tg::DType::boolean);  // float32 against float64: promoted
  CHECK_THROWS_WITH_AS(tg::eq(iota({2, 3}), iota({2})), doctest::Contains("(2, 3)"), tg::Error);
}

TEST_CASE("where: values and gradients with broadcasting") {
  on_both_backends([] {
    const Tensor cond = tg::gt(f32({1, -1}, {2, 1}), 0.0);  // rows: take a, take b
    const Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor b = f32({-1, -2, -3}, {3});
    check_values(tg::where(cond, a, b), {2, 3}, {1, 2, 3, -1, -2, -3});
    const Tensor c2 = tg::lt(iota({3}), 1.5);  // (T, T, F) per column
    check_values(tg::where(c2, a, b), {2, 3}, {1, 2, -3, 4, 5, -3});
    check_values(tg::where(c2, tg::scalar(9), b), {3}, {9, 9, -3});
  });
  tg::Generator gen(11);
  const Tensor cond = tg::gt(tg::randn({2, 1, 4}, {}, gen), 0.0);
  check_gradcheck([cond](const std::vector<Tensor>& in) { return tg::where(cond, in[0], in[1]); },
                  {rand64({3, 4}, gen), rand64({2, 3, 4}, gen)});
  check_gradcheck([cond](const std::vector<Tensor>& in) { return tg::where(cond, in[0], in[1]); },
                  {rand64({4}, gen), rand64({1, 3, 1}, gen)});
  check_gradcheck([cond](const std::vector<Tensor>& in) { return tg::where(cond, tg::transpose(in[0], 0, 1), in[0]); },
                  {rand64({4, 4}, gen)});
  // A broadcast a gets the sum of dy over the positions where cond picked it.
  const Tensor a = tg::tensor(std::vector<double>{0, 0}, {2}, true);
  const Tensor b = tg::tensor(std::vector<double>{0, 0, 0, 0}, {2, 2}, true);
  const Tensor c = tg::gt(f32({1, 1, -1, 1}, {2, 2}), 0.0);
  tg::where(c, a, b).backward(tg::tensor(std::vector<double>{1, 2, 3, 4}, {2, 2}));
  check_values(a.grad(), {2}, {1, 6});
  check_values(b.grad(), {2, 2}, {0, 0, 3, 0});

  CHECK_THROWS_WITH_AS(tg::where(f32({1}, {1}), iota({2}), iota({2})), doctest::Contains("cond must be bool, got float32"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::where(tg::gt(iota({2}), 0.0), iota({2}), iota({3})), doctest::Contains("where"), tg::Error);
  CHECK(tg::where(tg::gt(iota({2}), 0.0), iota({2}), iota({2}).to(tg::DType::f64)).dtype() == tg::DType::f64);
}

TEST_CASE("masked_fill: values, gradients and errors") {
  on_both_backends([] {
    const Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
    check_values(tg::masked_fill(x, tg::gt(x, 3.5), -1), {2, 3}, {1, 2, 3, -1, -1, -1});
    // A causal mask (3,) broadcast over rows: mask column j > 0.
    check_values(tg::masked_fill(x, tg::gt(iota({3}), 0.5), -1e9), {2, 3}, {1, -1e9, -1e9, 4, -1e9, -1e9});
  });
  tg::Generator gen(12);
  const Tensor mask = tg::gt(tg::randn({3, 1}, {}, gen), 0.0);
  check_gradcheck([mask](const std::vector<Tensor>& in) { return tg::masked_fill(in[0], mask, 2.5); },
                  {rand64({3, 4}, gen)});
  check_gradcheck([mask](const std::vector<Tensor>& in) { return tg::masked_fill(tg::transpose(in[0], 0, 1), mask, 0); },
                  {rand64({4, 3}, gen)});
  const Tensor x = tg::tensor(std::vector<double>{1, 2, 3}, {3}, true);
  tg::masked_fill(x, tg::eq(iota({3}), 1.0), 0).backward(tg::tensor(std::vector<double>{5, 6, 7}, {3}));
  check_values(x.grad(), {3}, {5, 0, 7});

  CHECK_THROWS_WITH_AS(tg::masked_fill(iota({2, 3}), tg::gt(iota({2, 2}), 0.0), 0),
                       doctest::Contains("masked_fill"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::masked_fill(iota({3}), tg::gt(iota({2, 3}), 0.0), 0),
                       doctest::Contains("mask (2, 3) does not broadcast to x (3,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::masked_fill(iota({3}), iota({3}), 0), doctest::Contains("mask must be bool, got float32"),
                       tg::Error);
}

// ---------------------------------------------------------------------------
// dropout

TEST_CASE("dropout: evaluation and p = 0 are the identity") {
  const Tensor x = iota({4, 5});
  check_values(tg::dropout(x, 0.5, false), {4, 5}, x.to_vector<double>());
  check_values(tg::dropout(x, 0.0, true), {4, 5}, x.to_vector<double>());
  const Tensor w = tg::tensor(std::vector<double>{1, 2}, {2}, true);
  tg::sum(tg::dropout(w, 0.3, false)).backward();
  check_values(w.grad(), {2}, {1, 1});
}

TEST_CASE("dropout: keeps about 1 - p, scales by 1 / (1 - p), reproducible from the seed") {
  const double p = 0.3;
  const Tensor x = tg::ones({200, 100});
  tg::Generator gen(42);
  const Tensor y = tg::dropout(x, p, true, gen);
  const std::vector<double> values = y.to_vector<double>();
  int64_t kept = 0;
  bool only_zero_or_scaled = true;
  for (double v : values) {
    if (v != 0) ++kept;
    if (v != 0 && std::abs(v - 1 / (1 - p)) > 1e-6) only_zero_or_scaled = false;
  }
  CHECK(only_zero_or_scaled);
  // 20000 Bernoulli(0.7) draws: the kept fraction has standard deviation ≈ 0.0032.
  CHECK(static_cast<double>(kept) / values.size() == doctest::Approx(1 - p).epsilon(0.03));

  tg::Generator same(42), other(43);
  const Tensor again = tg::dropout(x, p, true, same);
  const Tensor different = tg::dropout(x, p, true, other);
  CHECK(again.to_vector<double>() == values);
  CHECK(different.to_vector<double>() != values);
  // The reference backend draws the same mask from the same seed.
  {
    tg::HostBackendScope scope(tg::reference_backend());
    tg::Generator ref(42);
    CHECK(tg::dropout(x, p, true, ref).to_vector<double>() == values);
  }
  // x * m / (1 - p) element by element.
  tg::Generator g1(7), g2(7);
  const Tensor v = iota({3, 4});
  const std::vector<double> mask = tg::dropout(tg::ones({3, 4}), 0.5, true, g1).to_vector<double>();
  const std::vector<double> dropped = tg::dropout(v, 0.5, true, g2).to_vector<double>();
  for (size_t i = 0; i < mask.size(); ++i) CHECK(dropped[i] == doctest::Approx(static_cast<double>(i) * mask[i]));
}

TEST_CASE("dropout: gradient and errors") {
  tg::Generator gen(13);
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        tg::Generator fixed(99);  // re-seeded so every evaluation draws the same mask
        return tg::dropout(in[0], 0.4, true, fixed);
      },
      {rand64({5, 6}, gen)});
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        tg::Generator fixed(5);
        return tg::dropout(tg::transpose(in[0], 0, 1), 0.5, true, fixed);
      },
      {rand64({4, 3}, gen)});
  // dx = dy * m / (1 - p): zero where dropped, 1 / (1 - p) where kept.
  const Tensor x = tg::tensor(std::vector<double>(50, 1.0), {50}, true);
  tg::Generator g(3);
  const Tensor y = tg::dropout(x, 0.5, true, g);
  tg::sum(y).backward();
  CHECK(x.grad().to_vector<double>() == y.to_vector<double>());

  CHECK_THROWS_WITH_AS(tg::dropout(iota({2}), 1.0, true), doctest::Contains("dropout: p must be in [0, 1), got 1"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::dropout(iota({2}), -0.1, true), doctest::Contains("got -0.1"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::dropout(iota({2}), 1.5, false), doctest::Contains("p must be in [0, 1)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::dropout(tg::index_tensor({1}), 0.5, true), doctest::Contains("dropout: needs a float32"),
                       tg::Error);
}

// ---------------------------------------------------------------------------
// expand, broadcast_to, logical ops, sequence_mask

TEST_CASE("expand and broadcast_to: stride-0 views, -1, new leading dimensions") {
  on_both_backends([] {
    const Tensor q = f32({1, 2, 3}, Shape{1, 3});
    const Tensor e = tg::expand(q, Shape{2, 3});
    check_values(e, Shape{2, 3}, {1, 2, 3, 1, 2, 3});
    CHECK(e.strides() == tg::Strides{0, 1});
    CHECK(e.impl().storage == q.impl().storage);  // a view, no copy
    check_values(tg::expand(q, Shape{2, -1, -1}), Shape{2, 1, 3}, {1, 2, 3, 1, 2, 3});
    const Tensor column = f32({1, 2}, Shape{2, 1});
    check_values(tg::broadcast_to(column, Shape{2, 3}), Shape{2, 3}, {1, 1, 1, 2, 2, 2});
    check_values(tg::broadcast_to(tg::scalar(5.0), Shape{2}), Shape{2}, {5, 5});
    check_values(tg::expand(q, Shape{1, 3}), Shape{1, 3}, {1, 2, 3});
  });
}

TEST_CASE("expand and broadcast_to: backward sums over the grown dimensions") {
  const Tensor q = tg::tensor({1.f, 2.f, 3.f}, Shape{1, 3}, true);
  tg::sum(tg::expand(q, Shape{4, 3}) * f32({1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4}, Shape{4, 3})).backward();
  check_values(q.grad(), Shape{1, 3}, {10, 10, 10});
  tg::Generator gen(41);
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::expand(in[0], Shape{3, 2, 4}); }, {rand64({2, 1}, gen)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::broadcast_to(in[0], Shape{2, 3, 4}) * in[1]; },
                  {rand64({3, 1}, gen), rand64({2, 3, 4}, gen)});
  check_gradcheck([](const std::vector<Tensor>& in) { return tg::expand(tg::transpose(in[0], 0, 1), Shape{2, -1, 3}); },
                  {rand64({3, 1}, gen)});
}

TEST_CASE("expand and broadcast_to: errors name both shapes") {
  CHECK_THROWS_WITH_AS(tg::expand(tg::zeros({2, 3}), Shape{4, 3}),
                       doctest::Contains("expand: cannot expand (2, 3) to (4, 3): dimension 0 has size 2"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::broadcast_to(tg::zeros({2, 3}), Shape{3}),
                       doctest::Contains("broadcast_to: cannot expand (2, 3) to (3,): the target has fewer dimensions"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::expand(tg::zeros({3}), Shape{-1, 3}),
                       doctest::Contains("expand: cannot expand (3,) to (-1, 3): size -1 for the new dimension 0"),
                       tg::Error);
}

TEST_CASE("logical_not, logical_and, logical_or on bool masks") {
  // The elements of a bool tensor, row-major, as a string of 0s and 1s.
  const auto bits = [](const Tensor& t) {
    REQUIRE(t.dtype() == tg::DType::boolean);
    std::string out;
    for (double v : t.to(tg::DType::f64).to_vector<double>()) out += v != 0 ? '1' : '0';
    return out;
  };
  on_both_backends([&] {
    const Tensor a = tg::gt(f32({1, 0, 1, 0}, Shape{4}), 0.5);  // T F T F
    const Tensor b = tg::gt(f32({1, 1, 0, 0}, Shape{4}), 0.5);  // T T F F
    CHECK(bits(tg::logical_not(a)) == "0101");
    CHECK(bits(tg::logical_and(a, b)) == "1000");
    CHECK(bits(tg::logical_or(a, b)) == "1110");
    // Broadcasting: (2, 1) with (4).
    const Tensor column = tg::gt(f32({1, 0}, Shape{2, 1}), 0.5);
    const Tensor both = tg::logical_and(column, b), either = tg::logical_or(column, b);
    REQUIRE(both.shape() == Shape{2, 4});
    CHECK(bits(both) == "11000000");
    CHECK(bits(either) == "11111100");
  });
  CHECK_THROWS_WITH_AS(tg::logical_not(tg::zeros({2})),
                       doctest::Contains("logical_not: a must be bool, got float32 (2,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::logical_and(tg::gt(tg::zeros({2}), 0.0), tg::index_tensor({1, 0})),
                       doctest::Contains("logical_and: b must be bool, got int64 (2,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::logical_or(tg::gt(tg::zeros({2}), 0.0), tg::gt(tg::zeros({3}), 0.0)),
                       doctest::Contains("(2,)"), tg::Error);
}

TEST_CASE("sequence_mask: true at t < lengths[b]") {
  on_both_backends([] {
    const Tensor lengths = tg::index_tensor({2, 0, 3});
    const Tensor m = tg::sequence_mask(lengths);
    CHECK(m.dtype() == tg::DType::boolean);
    check_values(m, Shape{3, 3}, {1, 1, 0, 0, 0, 0, 1, 1, 1});
    check_values(tg::sequence_mask(lengths, 4), Shape{3, 4}, {1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0});
    check_values(tg::sequence_mask(lengths, 2), Shape{3, 2}, {1, 1, 0, 0, 1, 1});
    CHECK(tg::sequence_mask(tg::index_tensor({0, 0})).shape() == Shape{2, 0});
  });
  // The masked-attention use: padded scores to -inf.
  const Tensor scores = tg::masked_fill(f32({1, 2, 3, 4}, Shape{2, 2}),
                                        tg::logical_not(tg::sequence_mask(tg::index_tensor({1, 2}))), -100);
  check_values(scores, Shape{2, 2}, {1, -100, 3, 4});
  CHECK_THROWS_WITH_AS(tg::sequence_mask(tg::zeros({3})),
                       doctest::Contains("sequence_mask: lengths must be int64 (B), got float32 (3,)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::sequence_mask(tg::index_tensor({1, 2}), -1),
                       doctest::Contains("sequence_mask: max_len must be >= 0, got -1"), tg::Error);
}
