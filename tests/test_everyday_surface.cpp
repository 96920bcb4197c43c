// The everyday surface, second part: sort, argsort, unique, nonzero,
// index_add, repeat (function and method forms), the methods expand and
// clamp*, the *_like creators and eye, kaiming_* / xavier_* with PyTorch's
// gains and fans, OneCycleLR, and loading a PyTorch state_dict with tied
// weights. Values and gradients equal PyTorch's in float64
// (tests/fixtures/make_everyday2_fixtures.py -> everyday2_ops.txt), on
// contiguous inputs and on the same values laid out transposed (a
// non-contiguous view); float64 gradchecks; result dtypes; ties, NaN,
// zero-size and zero-dim inputs; errors that name what was expected.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
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

using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("everyday2_ops.txt");
  return loaded;
}

Tensor value(const std::string& name) { return fixture_tensor(fixture(), name, DType::f64); }
Tensor indices(const std::string& name) { return fixture_tensor(fixture(), name, DType::i64); }

// An input contiguous, or the same values stored with the dimensions reversed
// and permuted back (test_support.h's transposed layout), never contiguous then.
Laid laid_as(const Tensor& values, bool transposed) {
  return lay_out_checked(values, transposed ? Layout::transposed : Layout::contiguous);
}

// op(inputs) against "<name>.out", and the gradients of Σ out ⊙ "<name>.w"
// against "<name>.grad" (one input) or "<name>.grad_<i>", in both layouts.
void check_case(const std::string& name, const Op& op, const std::vector<std::string>& inputs) {
  for (const bool transposed : {false, true}) {
    CAPTURE(name);
    CAPTURE(transposed);
    std::vector<Laid> laid;
    Inputs seen;
    for (const std::string& in : inputs) {
      laid.push_back(laid_as(value(in), transposed));
      seen.push_back(laid.back().input);
    }
    const Tensor out = op(seen);
    CHECK(out.dtype() == DType::f64);
    check_fixture_close(fixture(), out, name + ".out");
    tg::sum(out * value(name + ".w")).backward();
    for (size_t i = 0; i < laid.size(); ++i)
      check_fixture_close(fixture(), laid[i].grad(),
                          inputs.size() == 1 ? name + ".grad" : name + ".grad_" + std::to_string(i));
  }
}

// A result without gradient, exactly equal (as float64) to the fixture's tensor, of dtype `dtype`.
void check_exact(const Tensor& got, const std::string& name, DType dtype) {
  CAPTURE(name);
  CHECK(got.dtype() == dtype);
  const FixtureTensor& want = entry(fixture(), name);
  REQUIRE(got.shape() == want.shape);
  const std::vector<double> g = got.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i)
    CHECK((g[i] == want.values[i] || (std::isnan(g[i]) && std::isnan(want.values[i]))));
}

void gradcheck_ok(const Op& op, const Inputs& inputs) {
  const tg::GradcheckResult r = tg::gradcheck(op, inputs);
  CHECK_MESSAGE(r.ok, r.message);
}

Tensor randn64(const Shape& shape, tg::Generator& gen) {
  return tg::randn(shape, {DType::f64, tg::Device::cpu(), true}, gen);
}

}  // namespace

// ---------------------------------------------------------------------------
// sort, argsort

TEST_CASE("sort and argsort equal PyTorch's: values, indices, gradients, stable ties, both forms, both layouts") {
  struct SortCase {
    const char* name;
    const char* input;
    int dim;
    bool descending;
  };
  for (const SortCase& c : {SortCase{"sort_last", "x", -1, false}, SortCase{"sort0_desc", "x", 0, true},
                            SortCase{"sort1_cube", "cube", 1, false},
                            SortCase{"sort_neg1_desc_cube", "cube", -1, true}}) {
    const std::string name = c.name;
    check_case(name, [&](const Inputs& in) { return tg::sort(in[0], c.dim, c.descending).values; }, {c.input});
    check_case(name, [&](const Inputs& in) { return in[0].sort(c.dim, c.descending, true).values; }, {c.input});
    for (const bool transposed : {false, true}) {
      const Tensor x = laid_as(value(c.input), transposed).input;
      const tg::Sorted sorted = tg::sort(x, c.dim, c.descending);
      check_exact(sorted.indices, name + ".indices", DType::i64);
      check_exact(x.sort(c.dim, c.descending).indices, name + ".indices", DType::i64);
      check_exact(tg::argsort(x, c.dim, c.descending), name + ".argsort", DType::i64);
      check_exact(x.argsort(c.dim, c.descending, true), name + ".argsort", DType::i64);
    }
  }
}

TEST_CASE("sort puts NaN last ascending and first descending, as PyTorch; ints, float32, zero-size and zero-dim") {
  check_exact(tg::sort(value("nan_row")).indices, "sort_nan.indices", DType::i64);
  check_exact(tg::argsort(value("nan_row"), 0, true), "sort_nan_desc.indices", DType::i64);

  const Tensor ints = tg::index_tensor({5, -3, 5, 0, int64_t{1} << 62, -3});
  const tg::Sorted s = ints.sort();
  CHECK(s.values.dtype() == DType::i64);
  CHECK(s.values.to_vector<int64_t>() == std::vector<int64_t>{-3, -3, 0, 5, 5, 1ll << 62});
  CHECK(s.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 5, 3, 0, 2, 4});
  const tg::Sorted f = tg::sort(tg::tensor({2.f, -1.f, 2.f}), 0, true);
  CHECK(f.values.dtype() == DType::f32);
  CHECK(f.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 2, 1});

  for (const int dim : {0, 1}) {
    const tg::Sorted empty = tg::sort(tg::zeros({0, 3}, {DType::f64}), dim);
    CHECK(empty.values.shape() == Shape{0, 3});
    CHECK(empty.indices.shape() == Shape{0, 3});
    CHECK(empty.indices.dtype() == DType::i64);
  }
  const Tensor s0 = tg::scalar(3.5, {DType::f64, tg::Device::cpu(), true});
  const tg::Sorted zero_dim = s0.sort();
  CHECK(zero_dim.values.shape() == Shape{});
  CHECK(zero_dim.indices.shape() == Shape{});
  CHECK(zero_dim.values.item() == 3.5);
  CHECK(zero_dim.indices.item() == 0);
  (zero_dim.values * 2.0).backward();
  CHECK(s0.grad().item() == 2.0);
  CHECK(tg::argsort(s0, 0).shape() == Shape{});
}

TEST_CASE("sort: gradcheck, and errors naming the dimension") {
  tg::Generator gen(3);
  gradcheck_ok([](const Inputs& in) { return tg::sort(in[0], 1, true).values; }, {randn64({3, 4, 2}, gen)});
  gradcheck_ok([](const Inputs& in) { return in[0].sort(0).values; }, {randn64({5, 3}, gen)});
  CHECK_THROWS_WITH_AS(tg::sort(tg::zeros({2, 3}), 2), "sort: axis 2 is out of range for a tensor of rank 2",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::argsort(tg::zeros({2, 3}), -3), "argsort: axis -3 is out of range for a tensor of rank 2",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::sort(tg::scalar(1.0), 1),
                       "sort: dim 1 is out of range for a zero-dim x (expected -1 or 0)", tg::Error);
}

// ---------------------------------------------------------------------------
// unique, nonzero

TEST_CASE("unique equals torch.unique (dim None): values, inverse, counts; dtypes, layouts, zero-size, zero-dim") {
  for (const bool transposed : {false, true}) {
    const Tensor x = laid_as(value("repeated"), transposed).input;
    const tg::Unique u = tg::unique(x, {.return_inverse = true, .return_counts = true});
    check_exact(u.values, "unique.values", DType::f64);
    check_exact(u.inverse, "unique.inverse", DType::i64);
    check_exact(u.counts, "unique.counts", DType::i64);
    CHECK_FALSE(u.values.requires_grad());
    const tg::Unique plain = tg::unique(x);
    check_exact(plain.values, "unique.values", DType::f64);
    CHECK_FALSE(plain.inverse.defined());
    CHECK_FALSE(plain.counts.defined());
  }
  const tg::Unique ints = tg::unique(tg::tensor({4, -1, 4, 4}), {.return_counts = true});
  CHECK(ints.values.dtype() == DType::i64);
  CHECK(ints.values.to_vector<int64_t>() == std::vector<int64_t>{-1, 4});
  CHECK(ints.counts.to_vector<int64_t>() == std::vector<int64_t>{1, 3});
  // NaN: each one distinct, last (PyTorch 1.13's cpu kernel gives garbage there).
  const tg::Unique nans = tg::unique(tg::tensor({NAN, 1.0, NAN, 1.0}), {.return_counts = true});
  CHECK(nans.values.numel() == 3);
  CHECK(nans.counts.to_vector<int64_t>() == std::vector<int64_t>{2, 1, 1});
  const tg::Unique empty = tg::unique(tg::zeros({0, 2}), {.return_inverse = true, .return_counts = true});
  CHECK(empty.values.shape() == Shape{0});
  CHECK(empty.inverse.shape() == Shape{0, 2});
  CHECK(empty.counts.shape() == Shape{0});
  const tg::Unique zero_dim = tg::unique(tg::scalar(4.0), {.return_inverse = true});
  CHECK(zero_dim.values.shape() == Shape{1});
  CHECK(zero_dim.inverse.shape() == Shape{});
  CHECK(zero_dim.inverse.item() == 0);
}

TEST_CASE("nonzero equals torch.nonzero: (n, ndim) int64, NaN non-zero, layouts, zero-size and zero-dim") {
  for (const bool transposed : {false, true})
    check_exact(tg::nonzero(laid_as(value("sparse"), transposed).input), "nonzero.out", DType::i64);
  CHECK(tg::nonzero(tg::tensor({0, 7, 0})).to_vector<int64_t>() == std::vector<int64_t>{1});
  CHECK(tg::nonzero(tg::zeros({0, 3})).shape() == Shape{0, 2});
  CHECK(tg::nonzero(tg::scalar(5.0)).shape() == Shape{1, 0});
  CHECK(tg::nonzero(tg::scalar(0.0)).shape() == Shape{0, 0});
  CHECK(tg::nonzero(tg::scalar(0.0)).dtype() == DType::i64);
}

// ---------------------------------------------------------------------------
// index_add

TEST_CASE("index_add equals torch.index_add: values and the gradients of x and source, both forms and layouts") {
  const Tensor index1 = indices("index1"), index0 = indices("index0");
  check_case("index_add1", [&](const Inputs& in) { return tg::index_add(in[0], 1, index1, in[1]); }, {"x", "src"});
  check_case("index_add1", [&](const Inputs& in) { return in[0].index_add(-1, index1, in[1]); }, {"x", "src"});
  check_case("index_add0_alpha", [&](const Inputs& in) { return tg::index_add(in[0], 0, index0, in[1], 2.5); },
             {"x", "src0"});
  check_case("index_add0_alpha", [&](const Inputs& in) { return in[0].index_add(0, index0, in[1], 2.5); },
             {"x", "src0"});
  // Out of place: x keeps its values.
  const Tensor x = value("x");
  const std::vector<double> before = x.to_vector<double>();
  (void)x.index_add(1, index1, value("src"));
  CHECK(x.to_vector<double>() == before);
}

TEST_CASE("index_add: gradcheck, empty index, zero-dim x, and errors naming the index, the sizes and the shapes") {
  tg::Generator gen(5);
  const Tensor index = tg::tensor({3, 0, 3});
  gradcheck_ok([&](const Inputs& in) { return tg::index_add(in[0], 1, index, in[1], -0.5); },
               {randn64({2, 4, 3}, gen), randn64({2, 3, 3}, gen)});
  const Tensor x = tg::ones({2, 3}, {DType::f64});
  const Tensor same = tg::index_add(x, 0, tg::index_tensor({}, Shape{0}), tg::zeros({0, 3}, {DType::f64}));
  CHECK(same.to_vector<double>() == x.to_vector<double>());
  const Tensor s = tg::index_add(tg::scalar(1.0, {DType::f64}), 0, tg::tensor({0}), tg::scalar(2.0, {DType::f64}));
  CHECK(s.shape() == Shape{});
  CHECK(s.item() == 3.0);

  CHECK_THROWS_WITH_AS(tg::index_add(x, 2, tg::tensor({0}), tg::ones({2, 1}, {DType::f64})),
                       "index_add: axis 2 is out of range for a tensor of rank 2", tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_add(x, 1, tg::tensor({0, 7}), tg::ones({2, 2}, {DType::f64})),
                       "index_add: index[1] = 7 is out of range for dimension 1 of x (2, 3) (size 3)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_add(x, 1, tg::tensor({0, -1}), tg::ones({2, 2}, {DType::f64})),
                       "index_add: index[1] = -1 is out of range for dimension 1 of x (2, 3) (size 3)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_add(x, 1, tg::tensor({0, 1}), tg::ones({2, 3}, {DType::f64})),
                       "index_add: source (2, 3) must have x's shape (2, 3) with dimension 1 of index's length 2, "
                       "that is (2, 2)",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_add(x, 1, tg::tensor({0, 1}), tg::ones({2, 2})),
                       "index_add: source (float32) must have x's dtype (float64)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::index_add(x, 1, tg::tensor({0, 1}, {1, 2}), tg::ones({2, 2}, {DType::f64})),
                       "index_add: index must be a 1-D int64 tensor, got int64 (1, 2)", tg::Error);
}

// ---------------------------------------------------------------------------
// repeat, expand, clamp as methods

TEST_CASE("repeat equals Tensor.repeat: tiling, new leading dimensions, gradients, both forms and layouts") {
  check_case("repeat23", [](const Inputs& in) { return tg::repeat(in[0], {2, 3}); }, {"x"});
  check_case("repeat23", [](const Inputs& in) { return in[0].repeat({2, 3}); }, {"x"});
  check_case("repeat212", [](const Inputs& in) { return in[0].repeat({2, 1, 2}); }, {"x"});
  check_case("repeat_cube", [](const Inputs& in) { return tg::repeat(in[0], {1, 2, 1, 2}); }, {"cube"});
  tg::Generator gen(6);
  gradcheck_ok([](const Inputs& in) { return in[0].repeat({3, 1, 2}); }, {randn64({2, 3}, gen)});
  CHECK(tg::ones({2, 3}).repeat({0, 2}).shape() == Shape{0, 6});
  CHECK(tg::scalar(2.0).repeat({3}).to_vector<double>() == std::vector<double>{2, 2, 2});
  CHECK(tg::repeat(tg::tensor({1, 2}), {2}).to_vector<int64_t>() == std::vector<int64_t>{1, 2, 1, 2});
  CHECK_THROWS_WITH_AS(tg::ones({2, 3}).repeat({2}),
                       "repeat: 1 repeat count for x (2, 3) of 2 dimensions; give at least one per dimension",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::ones({2}).repeat({-1}), "repeat: repeat counts must be >= 0, got -1 for dimension 0",
                       tg::Error);
}

TEST_CASE("methods expand, clamp, clamp_min and clamp_max are the free functions") {
  const Tensor x = tg::tensor({-2.0, 0.5, 3.0}, {3, 1}, true);
  const Tensor e = x.expand({3, 4});
  CHECK(e.shape() == Shape{3, 4});
  CHECK(e.strides()[1] == 0);
  CHECK(x.expand({-1, 2}).shape() == Shape{3, 2});
  tg::sum(e).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{4, 4, 4});
  CHECK(x.clamp(-1.0, 1.0).to_vector<double>() == std::vector<double>{-1, 0.5, 1});
  CHECK(x.clamp(std::nullopt, 0.0).to_vector<double>() == std::vector<double>{-2, 0, 0});
  CHECK(x.clamp_min(0.0).to_vector<double>() == std::vector<double>{0, 0.5, 3});
  CHECK(x.clamp_max(0.0).to_vector<double>() == tg::clamp_max(x, 0.0).to_vector<double>());
  CHECK(tg::clamp_min(x, 1.0).to_vector<double>() == std::vector<double>{1, 1, 3});
  tg::Generator gen(8);
  gradcheck_ok([](const Inputs& in) { return in[0].clamp_min(0.1) + in[0].clamp_max(-0.1); }, {randn64({6}, gen)});
}

// ---------------------------------------------------------------------------
// creators

TEST_CASE("empty_like, rand_like, randn_like, randint_like keep x's shape, dtype and device; eye") {
  const Tensor x = tg::zeros({2, 3}, {DType::f64});
  CHECK(tg::empty_like(x).shape() == Shape{2, 3});
  CHECK(tg::empty_like(x).dtype() == DType::f64);
  CHECK(tg::empty_like(tg::tensor({1, 2})).dtype() == DType::i64);
  tg::Generator a(11), b(11);
  const Tensor r = tg::rand_like(x, a);
  CHECK(r.dtype() == DType::f64);
  CHECK(r.shape() == Shape{2, 3});
  for (const double v : r.to_vector<double>()) CHECK((v >= 0 && v < 1));
  CHECK(tg::rand_like(x, b).to_vector<double>() == r.to_vector<double>());  // the same seed, the same draws
  const Tensor n = tg::randn_like(tg::zeros({500}), a);
  CHECK(n.dtype() == DType::f32);
  CHECK(std::abs(tg::mean(n).item()) < 0.2);
  const Tensor i = tg::randint_like(tg::zeros({1000}, {DType::i64}), -2, 3, a);
  CHECK(i.dtype() == DType::i64);
  std::vector<int> seen(5, 0);
  for (const int64_t v : i.to_vector<int64_t>()) {
    REQUIRE((v >= -2 && v < 3));
    ++seen[static_cast<size_t>(v + 2)];
  }
  for (const int count : seen) CHECK(count > 100);
  const Tensor f = tg::randint_like(x, 4, a);
  CHECK(f.dtype() == DType::f64);
  for (const double v : f.to_vector<double>()) CHECK((v == std::floor(v) && v >= 0 && v < 4));
  CHECK(tg::randint_like(tg::scalar(0.0), 2, a).shape() == Shape{});
  CHECK_THROWS_WITH_AS(tg::rand_like(tg::tensor({1, 2}), a), "rand_like: x must have a float dtype, got int64",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::randint_like(x, 3, 3, a), "randint_like: low 3 must be below high 3", tg::Error);

  const Tensor eye = tg::eye(2, 3);
  CHECK(eye.dtype() == DType::f32);
  CHECK(eye.to_vector<double>() == std::vector<double>{1, 0, 0, 0, 1, 0});
  CHECK(tg::eye(3, {DType::f64}).to_vector<double>() == std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(tg::eye(3, 2, {DType::i64}).dtype() == DType::i64);
  CHECK(tg::eye(0).shape() == Shape{0, 0});
  CHECK_THROWS_WITH_AS(tg::eye(-1), "eye: sizes must be >= 0, got n = -1, m = -1", tg::Error);
}

// ---------------------------------------------------------------------------
// init

TEST_CASE("init: PyTorch's gains and fans; kaiming_* and xavier_* draw at the scale they imply") {
  namespace init = tg::nn::init;
  using tg::nn::init::Nonlinearity;
  const std::vector<double> gains = {init::calculate_gain(Nonlinearity::linear),
                                     init::calculate_gain(Nonlinearity::sigmoid),
                                     init::calculate_gain(Nonlinearity::tanh),
                                     init::calculate_gain(Nonlinearity::relu),
                                     init::calculate_gain(Nonlinearity::leaky_relu),
                                     init::calculate_gain(Nonlinearity::selu),
                                     init::calculate_gain(Nonlinearity::leaky_relu, std::sqrt(5.0))};
  check_fixture_close(fixture(), tg::tensor(gains), "init.gains");
  std::vector<double> fans;
  for (const Shape& s : {Shape{6, 3}, Shape{6, 3, 5}, Shape{4, 2, 3, 3}}) {
    const init::Fans f = init::calculate_fan_in_and_fan_out(tg::zeros(s));
    fans.push_back(static_cast<double>(f.fan_in));
    fans.push_back(static_cast<double>(f.fan_out));
  }
  check_exact(tg::tensor(fans), "init.fans", DType::f64);

  tg::Generator gen(9);
  // A conv weight (out 64, in 16, k 5): fan_in 80, fan_out 320.
  const Tensor w = tg::zeros({64, 16, 5}, {DType::f64});
  init::kaiming_uniform_(w, {}, gen);  // gain √2, bound √3·√2/√80
  const double bound = std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(80.0);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.98 * bound);
  init::kaiming_uniform_(w, {.a = std::sqrt(5.0)}, gen);  // nn.Linear's: bound 1/√fan_in
  CHECK(max_abs(w) <= 1 / std::sqrt(80.0));
  CHECK(max_abs(w) > 0.98 / std::sqrt(80.0));
  auto stddev = [](const Tensor& t) { return std::sqrt(tg::mean(t * t).item()); };
  init::kaiming_normal_(w, {.mode = init::FanMode::fan_out, .nonlinearity = Nonlinearity::relu}, gen);
  CHECK(stddev(w) == doctest::Approx(std::sqrt(2.0 / 320.0)).epsilon(0.05));
  init::xavier_normal_(w, 2.0, gen);
  CHECK(stddev(w) == doctest::Approx(2.0 * std::sqrt(2.0 / 400.0)).epsilon(0.05));
  init::xavier_uniform_(w, 1.0, gen);
  CHECK(max_abs(w) <= std::sqrt(6.0 / 400.0));
  // The same generator state draws the same weights.
  tg::Generator g1(4), g2(4);
  const Tensor a = tg::zeros({3, 4}), b = tg::zeros({3, 4});
  init::kaiming_normal_(a, {}, g1);
  init::kaiming_normal_(b, {}, g2);
  CHECK(a.to_vector<double>() == b.to_vector<double>());
  init::kaiming_uniform_(tg::zeros({0, 3}), {}, gen);  // no elements: left alone, as PyTorch
  CHECK_THROWS_WITH_AS(init::kaiming_uniform_(tg::zeros({5}), {}, gen),
                       "kaiming_uniform_: needs a tensor of at least 2 dimensions (out, in, ...), got (5,)", tg::Error);
}

// ---------------------------------------------------------------------------
// OneCycleLR

TEST_CASE("OneCycleLR follows torch.optim.lr_scheduler.OneCycleLR step by step, two and three phases") {
  using tg::optim::OneCycleLR;
  using tg::optim::OneCycleOptions;
  const Tensor p = tg::zeros({1}, {DType::f32, tg::Device::cpu(), true});
  auto run = [&](const std::string& name, int64_t total, OneCycleOptions options) {
    CAPTURE(name);
    tg::optim::SGD sgd({p}, {.lr = 0.1});
    OneCycleLR schedule(sgd, 0.5, total, options);
    std::vector<double> lrs = {sgd.lr()};
    for (int64_t t = 0; t < total; ++t) {
      schedule.step();
      lrs.push_back(sgd.lr());
    }
    // Past the end (t = T) PyTorch's linear anneal goes below 0 (a rate no update uses); here it stops at 0.
    std::vector<double> want = entry(fixture(), name).values;
    want.back() = std::max(want.back(), 0.0);
    CHECK(max_abs_diff(lrs, want) <= 1e-15);
    const std::string beyond = "OneCycleLR: step " + std::to_string(total + 1) + " is beyond total_steps";
    CHECK_THROWS_WITH_AS(schedule.step(), doctest::Contains(beyond.c_str()), tg::Error);
  };
  run("onecycle.default", 20, {});
  run("onecycle.linear3", 17,
      {.pct_start = 0.25, .anneal_strategy = OneCycleOptions::Anneal::linear, .div_factor = 10,
       .final_div_factor = 100, .three_phase = true});

  // state() / load_state(): a restored schedule sets the lr it had reached.
  tg::optim::SGD sgd({p}, {.lr = 0.1});
  OneCycleLR schedule(sgd, 0.5, 20);
  for (int i = 0; i < 7; ++i) schedule.step();
  const double lr7 = sgd.lr();
  tg::optim::SGD sgd2({p}, {.lr = 0.1});
  OneCycleLR restored(sgd2, 0.5, 20);
  restored.load_state(schedule.state());
  CHECK(sgd2.lr() == lr7);
  CHECK(restored.step_count() == 7);
  CHECK_THROWS_WITH_AS(OneCycleLR(sgd2, 0.5, 10, {.pct_start = 1.5}),
                       "OneCycleLR: pct_start must be in [0, 1], got 1.5", tg::Error);
  CHECK_THROWS_WITH_AS(OneCycleLR(sgd2, 0.5, 0), "OneCycleLR: total_steps must be >= 1, got 0", tg::Error);
}

// ---------------------------------------------------------------------------
// loading a PyTorch state_dict with tied weights

namespace {
struct TiedLM : tg::nn::Module {
  tg::nn::Embedding embedding;
  tg::nn::Linear decoder;
  TiedLM() : embedding(5, 3), decoder(3, 5) {
    register_module("embedding", embedding);
    register_module("decoder", decoder);
    decoder.weight = embedding.weight;  // tied, as tied_lm.cpp: (vocab, dim) both ways
  }
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tg_everyday_surface_" + name)).string();
}
}  // namespace

TEST_CASE("load: a PyTorch state_dict holding a tied weight under both names loads when both agree, not otherwise") {
  TiedLM model;
  REQUIRE(model.decoder.weight.is_same(model.embedding.weight));
  const auto names = model.state_dict_all_names();
  const Tensor weight = tg::arange(0.0, 15.0, 1.0).reshape({5, 3});
  const Tensor bias = tg::tensor({0.5f, -0.5f, 1.f, 2.f, 3.f});
  REQUIRE(model.decoder.bias.shape() == bias.shape());
  REQUIRE(model.embedding.weight.shape() == weight.shape());

  // Both keys, the same values (torch.save of a tied model's state_dict holds both).
  const std::string same = temp_path("tied_same.safetensors");
  tg::save_safetensors(same, {{"embedding.weight", weight}, {"decoder.weight", weight.detach().clone()},
                              {"decoder.bias", bias}});
  tg::nn::load(model, same);
  CHECK(model.embedding.weight.to_vector<double>() == weight.to_vector<double>());
  CHECK(model.decoder.weight.is_same(model.embedding.weight));
  CHECK(model.decoder.bias.to_vector<double>() == bias.to_vector<double>());

  // Only the second name: it serves too.
  const std::string second = temp_path("tied_second.safetensors");
  tg::save_safetensors(second, {{"decoder.weight", weight * 2.f}, {"decoder.bias", bias}});
  tg::nn::load(model, second);
  CHECK(model.embedding.weight.at({1, 0}) == 6.0);

  // Different values: refused, naming both keys, and nothing changed.
  const std::string differ = temp_path("tied_differ.safetensors");
  Tensor changed = weight.detach().clone();
  changed = tg::index_add(changed, 0, tg::tensor({2}), tg::full({1, 3}, 0.25f));
  tg::save_safetensors(differ, {{"embedding.weight", weight}, {"decoder.weight", changed}, {"decoder.bias", bias}});
  const std::vector<double> before = model.embedding.weight.to_vector<double>();
  CHECK_THROWS_WITH_AS(tg::nn::load(model, differ),
                       doctest::Contains("tied weights differ: embedding.weight and decoder.weight are one tensor in "
                                         "the model (tied) but embedding.weight and decoder.weight hold different "
                                         "values in the file (first at element 6: 6 and 6.25)"),
                       tg::Error);
  CHECK(model.embedding.weight.to_vector<double>() == before);

  // Neither name: missing, under the first name; an unknown key is still unexpected.
  const std::string neither = temp_path("tied_neither.safetensors");
  tg::save_safetensors(neither, {{"decoder.bias", bias}, {"encoder.weight", weight}});
  CHECK_THROWS_WITH_AS(tg::nn::load(model, neither),
                       doctest::Contains("1 missing key: embedding.weight; 1 unexpected key: encoder.weight"),
                       tg::Error);
  for (const std::string& path : {same, second, differ, neither}) std::filesystem::remove(path);
}
