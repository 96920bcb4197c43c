// GRUCell and GRU: forward values and gradients against PyTorch fixtures
// (tests/fixtures/make_gru_fixtures.py: nn.GRUCell, and nn.GRU over a packed,
// unsorted, padded batch with two bidirectional layers), float64 gradient
// checks, the padding guarantees (padded steps leave the state alone and give
// zero outputs), layouts, dropout between layers, and the error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "tapegrad_kernels.h"
#include "test_support.h"

namespace {

using test_support::max_abs_diff;
using test_support::check_gradcheck;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::nn::GRU;
using tg::nn::GRUCell;
using tg::nn::GRUOptions;
using tg::nn::GRUOutput;
using Inputs = std::vector<Tensor>;

using test_support::Fixture;
using test_support::FixtureTensor;
using test_support::entry;
using test_support::fixture_tensor;
using test_support::load_fixture;
using test_support::fixture_lengths;
using test_support::load_recurrent_parameters;
using test_support::check_close;
using test_support::check_same;
using test_support::fill_padding;
using test_support::two_layer_bidirectional;

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
  tg::kernels::copy_into(tg::tensor({0.5, -1.0, 2.0}, {3, 1}), cell.weight_ih);
  tg::kernels::copy_into(tg::tensor({1.5, 0.25, -0.75}, {3, 1}), cell.weight_hh);
  const double x = 0.8, h = -0.6;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double r = sig(0.5 * x + 1.5 * h), z = sig(-1.0 * x + 0.25 * h);
  const double n = std::tanh(2.0 * x + r * (-0.75 * h));
  const double expected = (1 - z) * n + z * h;
  const Tensor out = cell(tg::tensor({x}, {1, 1}), tg::tensor({h}, {1, 1}));
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

// ---------------------------------------------------------------------------
// GRU

TEST_CASE("GRU: parameter names and shapes follow PyTorch") {
  GRU gru(3, 4, two_layer_bidirectional());
  const auto params = gru.named_parameters();
  const Fixture fixture = load_fixture("gru_packed.txt");
  const std::vector<std::string> expected = {
      "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
  REQUIRE(params.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(params[i].first == expected[i]);
    CHECK(params[i].second.shape() == entry(fixture, expected[i]).shape);  // PyTorch's shapes
  }
  CHECK(gru.weights(1, 1).weight_ih.shape() == Shape{12, 8});
  CHECK(gru.weights(1, 1).weight_ih.is_same(params[12].second));
  CHECK_THROWS_WITH_AS(gru.weights(2, 0), doctest::Contains("2 layer(s)"), tg::Error);

  GRUOptions plain;
  plain.bias = false;
  plain.num_layers = 2;
  GRU gru_plain(3, 4, plain);
  CHECK(gru_plain.named_parameters().size() == 4);
  CHECK(gru_plain.weights(1).weight_ih.shape() == Shape{12, 4});
  const std::string summary = gru.summary();
  CHECK(summary.find("weight_hh_l1_reverse") != std::string::npos);
  CHECK(summary.find("GRU") != std::string::npos);
}

TEST_CASE("GRU: packed, unsorted, two-layer bidirectional batch matches PyTorch") {
  const Fixture fixture = load_fixture("gru_packed.txt");
  const Tensor lengths = fixture_lengths(fixture);
  SUBCASE("float64, with gradients of inputs, h0 and every parameter") {
    GRU gru(3, 4, two_layer_bidirectional(), DType::f64);
    load_recurrent_parameters(gru, fixture);
    const Tensor x = fixture_tensor(fixture, "x", DType::f64, true);
    const Tensor h0 = fixture_tensor(fixture, "h0", DType::f64, true);
    const GRUOutput out = gru(x, h0, lengths);
    check_close(out.output, fixture, "output", 1e-10);
    check_close(out.h_n, fixture, "h_n", 1e-10);
    const Tensor loss = tg::sum(out.output * fixture_tensor(fixture, "loss_output", DType::f64)) +
                        tg::sum(out.h_n * fixture_tensor(fixture, "loss_h_n", DType::f64));
    loss.backward();
    check_close(x.grad(), fixture, "grad.x", 1e-10);
    check_close(h0.grad(), fixture, "grad.h0", 1e-10);
    for (const auto& [name, p] : gru.named_parameters()) check_close(p.grad(), fixture, "grad." + name, 1e-10);
  }
  SUBCASE("float32") {
    GRU gru(3, 4, two_layer_bidirectional(), DType::f32);
    load_recurrent_parameters(gru, fixture);
    const GRUOutput out =
        gru(fixture_tensor(fixture, "x", DType::f32), fixture_tensor(fixture, "h0", DType::f32), lengths);
    CHECK(out.output.dtype() == DType::f32);
    check_close(out.output, fixture, "output", 1e-5);
    check_close(out.h_n, fixture, "h_n", 1e-5);
  }
  SUBCASE("batch_first gives the same numbers in (B, T, ·) layout") {
    GRUOptions options = two_layer_bidirectional();
    options.batch_first = true;
    GRU gru(3, 4, options, DType::f64);
    load_recurrent_parameters(gru, fixture);
    const Tensor x_tb = fixture_tensor(fixture, "x", DType::f64);
    const Tensor x_bt = tg::transpose(x_tb, 0, 1).contiguous().requires_grad_();  // (B, T, I)
    const Tensor h0 = fixture_tensor(fixture, "h0", DType::f64);
    const GRUOutput out = gru(x_bt, h0, lengths);
    REQUIRE(out.output.shape() == Shape{3, 5, 8});
    check_close(tg::transpose(out.output, 0, 1), fixture, "output", 1e-10);
    check_close(out.h_n, fixture, "h_n", 1e-10);
    const Tensor loss_output_bt = tg::transpose(fixture_tensor(fixture, "loss_output", DType::f64), 0, 1);
    const Tensor loss = tg::sum(out.output * loss_output_bt) +
                        tg::sum(out.h_n * fixture_tensor(fixture, "loss_h_n", DType::f64));
    loss.backward();
    check_close(tg::transpose(x_bt.grad(), 0, 1), fixture, "grad.x", 1e-10);
    // a non-contiguous (B, T, I) view works too
    const GRUOutput from_view = gru(tg::transpose(x_tb, 0, 1), h0, lengths);
    check_same(from_view.output, out.output, 1e-14);
  }
}

TEST_CASE("GRU: padded steps leave the state alone and give zero outputs") {
  tg::Generator gen(6);
  GRU gru(2, 3, two_layer_bidirectional(), DType::f64, gen);
  // The sequence alone: T = 2, B = 1.
  const Tensor seq = tg::randn({2, 1, 2}, {DType::f64}, gen);
  const GRUOutput alone = gru(seq);
  // The same sequence as sequence 1 of a batch padded to T = 5 with garbage.
  Tensor batch = tg::randn({5, 3, 2}, {DType::f64}, gen);
  tg::kernels::copy_into(tg::select(seq, 1, 0), tg::select(tg::slice(batch, 0, 0, 2), 1, 1));
  const std::vector<int64_t> lengths = {5, 2, 4};
  fill_padding(batch, lengths, 1e3);
  batch.requires_grad_();
  const GRUOutput padded = gru(batch, Tensor(), tg::index_tensor(lengths));

  check_same(tg::select(padded.h_n, 1, 1), tg::select(alone.h_n, 1, 0), 1e-14);
  check_same(tg::slice(tg::select(padded.output, 1, 1), 0, 0, 2), tg::select(alone.output, 1, 0), 1e-14);
  // outputs at padded steps are exactly zero; valid ones are not
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = 0; t < 5; ++t) {
      const Tensor row = tg::select(tg::select(padded.output, 0, t), 0, static_cast<int64_t>(b));
      double largest = 0;
      for (double v : row.to_vector<double>()) largest = std::max(largest, std::abs(v));
      if (t >= lengths[b]) CHECK(largest == 0);
      else CHECK(largest > 0);
    }
  // and the garbage receives no gradient
  (tg::sum(padded.output * padded.output) + tg::sum(padded.h_n)).backward();
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = lengths[b]; t < 5; ++t)
      for (double v : tg::select(tg::select(batch.grad(), 0, t), 0, static_cast<int64_t>(b)).to_vector<double>())
        CHECK(v == 0);
}

TEST_CASE("GRU: lengths of all T equal no lengths, and zero h0 equals no h0") {
  tg::Generator gen(7);
  GRU gru(3, 4, two_layer_bidirectional(), DType::f64, gen);
  const Tensor x = tg::randn({4, 2, 3}, {DType::f64}, gen);
  const GRUOutput plain = gru(x);
  const GRUOutput full = gru(x, tg::zeros({4, 2, 4}, {DType::f64}), tg::index_tensor({4, 4}));
  check_same(full.output, plain.output);
  check_same(full.h_n, plain.h_n);
  CHECK(plain.output.shape() == Shape{4, 2, 8});
  CHECK(plain.h_n.shape() == Shape{4, 2, 4});
  // h_n holds the last step of the forward direction and step 0 of the reverse one (top layer).
  check_same(tg::select(plain.h_n, 0, 2), tg::slice(tg::select(plain.output, 0, 3), 1, 0, 4));
  check_same(tg::select(plain.h_n, 0, 3), tg::slice(tg::select(plain.output, 0, 0), 1, 4, 8));
}

TEST_CASE("GRU: a single unidirectional layer equals GRUCell steps") {
  tg::Generator gen(8);
  GRU gru(3, 4, {}, DType::f64, gen);
  GRUCell cell(3, 4, {.dtype = DType::f64}, gen);
  const auto& w = gru.weights(0);
  for (auto [from, to] : {std::pair{w.weight_ih, cell.weight_ih}, {w.weight_hh, cell.weight_hh},
                          {w.bias_ih, cell.bias_ih}, {w.bias_hh, cell.bias_hh}})
    tg::kernels::copy_into(from, to);
  const Tensor x = tg::randn({3, 2, 3}, {DType::f64}, gen);
  const Tensor h0 = tg::randn({1, 2, 4}, {DType::f64}, gen);
  const std::vector<int64_t> lengths = {3, 2};
  const GRUOutput out = gru(x, h0, tg::index_tensor(lengths));
  // sequence 0 runs all 3 steps; sequence 1 stops after 2
  Tensor h = tg::select(h0, 0, 0);
  std::vector<Tensor> states;
  for (int64_t t = 0; t < 3; ++t) {
    h = cell(tg::select(x, 0, t), h);
    states.push_back(h);
  }
  for (int64_t t = 0; t < 3; ++t)
    check_same(tg::select(tg::select(out.output, 0, t), 0, 0), tg::select(states[t], 0, 0), 1e-14);
  check_same(tg::select(tg::select(out.output, 0, 1), 0, 1), tg::select(states[1], 0, 1), 1e-14);
  check_same(tg::select(tg::select(out.h_n, 0, 0), 0, 0), tg::select(states[2], 0, 0), 1e-14);
  check_same(tg::select(tg::select(out.h_n, 0, 0), 0, 1), tg::select(states[1], 0, 1), 1e-14);
}

TEST_CASE("GRU: bias = false equals zero biases") {
  tg::Generator gen(9);
  GRUOptions with_bias = two_layer_bidirectional();
  GRUOptions without = with_bias;
  without.bias = false;
  GRU a(2, 3, with_bias, DType::f64, gen), b(2, 3, without, DType::f64, gen);
  for (int layer = 0; layer < 2; ++layer)
    for (int d = 0; d < 2; ++d) {
      tg::kernels::copy_into(b.weights(layer, d).weight_ih, a.weights(layer, d).weight_ih);
      tg::kernels::copy_into(b.weights(layer, d).weight_hh, a.weights(layer, d).weight_hh);
      tg::nn::init::zeros_(a.weights(layer, d).bias_ih);
      tg::nn::init::zeros_(a.weights(layer, d).bias_hh);
    }
  const Tensor x = tg::randn({3, 2, 2}, {DType::f64}, gen);
  const Tensor lengths = tg::index_tensor({1, 3});
  check_same(a(x, {}, lengths).output, b(x, {}, lengths).output, 1e-14);
  check_same(a(x, {}, lengths).h_n, b(x, {}, lengths).h_n, 1e-14);
}

TEST_CASE("GRU: float64 gradient check, two bidirectional layers over a padded batch") {
  for (const bool batch_first : {false, true}) {
    INFO("batch_first " << batch_first);
    tg::Generator gen(10);
    GRUOptions options = two_layer_bidirectional();
    options.batch_first = batch_first;
    GRU gru(2, 2, options, DType::f64, gen);
    const Tensor x = tg::randn(batch_first ? Shape{2, 3, 2} : Shape{3, 2, 2}, {DType::f64}, gen).requires_grad_();
    const Tensor h0 = tg::randn({4, 2, 2}, {DType::f64}, gen).requires_grad_();
    const Tensor lengths = tg::index_tensor({3, 2});
    Inputs inputs{x, h0};
    for (const Tensor& p : gru.parameters()) inputs.push_back(p);
    // output and h_n both enter the checked function
    auto f = [&](const Inputs& in) {
      const GRUOutput out = gru(in[0], in[1], lengths);
      return tg::concat({tg::flatten(out.output), tg::flatten(out.h_n)}, 0);
    };
    check_gradcheck(tg::gradcheck(f, inputs));
  }
}

TEST_CASE("GRU: unidirectional gradient check without h0 or lengths") {
  tg::Generator gen(11);
  GRUOptions options;
  options.num_layers = 2;
  GRU gru(2, 3, options, DType::f64, gen);
  const Tensor x = tg::randn({3, 2, 2}, {DType::f64}, gen).requires_grad_();
  Inputs inputs{x};
  for (const Tensor& p : gru.parameters()) inputs.push_back(p);
  check_gradcheck(tg::gradcheck([&](const Inputs& in) { return gru(in[0]).output; }, inputs));
}

TEST_CASE("GRU: dropout between layers in training mode only, reproducible") {
  GRUOptions options = two_layer_bidirectional();
  options.dropout = 0.5;
  tg::Generator gen_a(12), gen_b(12);
  GRU a(3, 4, options, DType::f64, gen_a), b(3, 4, options, DType::f64, gen_b);
  const Tensor x = tg::randn({4, 2, 3}, {DType::f64}, gen_a);
  const GRUOutput train_a = a(x), train_b = b(x);
  check_same(train_a.output, train_b.output);  // the same seed, the same masks
  const GRUOutput again = a(x);
  CHECK(max_abs_diff(again.output, train_a.output.to_vector<double>()) > 1e-6);  // fresh masks each call
  a.eval();
  const GRUOutput eval1 = a(x), eval2 = a(x);
  check_same(eval1.output, eval2.output);
  CHECK(max_abs_diff(eval1.output, train_a.output.to_vector<double>()) > 1e-6);
  // With one layer there is no dropout at all, training or not.
  GRUOptions single;
  single.dropout = 0.5;
  GRU one(3, 4, single, DType::f64);
  const GRUOutput t1 = one(x);
  one.eval();
  check_same(one(x).output, t1.output);
}

TEST_CASE("GRU: errors name what was expected and what was got") {
  GRU gru(3, 4, two_layer_bidirectional());
  const Tensor x = tg::zeros({5, 2, 3});
  CHECK_THROWS_WITH_AS(gru(tg::zeros({5, 3})), doctest::Contains("rank 3 (T, B, I), got shape (5, 3)"), tg::Error);
  CHECK_THROWS_WITH_AS(gru(tg::zeros({5, 2, 6})), doctest::Contains("input_size = 3, got 6"), tg::Error);
  CHECK_THROWS_WITH_AS(gru(x, tg::zeros({2, 2, 4})), doctest::Contains("(L·D, B, H) = (4, 2, 4), got (2, 2, 4)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(gru(x, {}, tg::zeros({2})), doctest::Contains("lengths must be int64, got float32"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(gru(x, {}, tg::index_tensor({5, 5, 5})), doctest::Contains("(B,) = (2,), got (3,)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(gru(x, {}, tg::index_tensor({5, 6})), doctest::Contains("lengths[1] = 6"), tg::Error);
  CHECK_THROWS_WITH_AS(gru(x, {}, tg::index_tensor({0, 5})), doctest::Contains("1..T = 1..5"), tg::Error);
  CHECK_THROWS_WITH_AS(gru(tg::zeros({5, 2, 3}, {DType::f64})), doctest::Contains("x is float64"), tg::Error);
  GRUOptions bad;
  bad.num_layers = 0;
  CHECK_THROWS_WITH_AS(GRU(3, 4, bad), doctest::Contains("num_layers must be at least 1, got 0"), tg::Error);
  bad.num_layers = 1;
  bad.dropout = 1.0;
  CHECK_THROWS_WITH_AS(GRU(3, 4, bad), doctest::Contains("dropout must be in [0, 1), got 1"), tg::Error);
  GRUOptions batch_first;
  batch_first.batch_first = true;
  CHECK_THROWS_WITH_AS(GRU(3, 4, batch_first)(tg::zeros({2, 3})), doctest::Contains("(B, T, I)"), tg::Error);
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
