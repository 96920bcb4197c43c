// LSTMCell and LSTM: forward values and gradients against PyTorch fixtures
// (tests/fixtures/make_lstm_fixtures.py: nn.LSTMCell, and nn.LSTM over a packed,
// unsorted, padded batch with two bidirectional layers), float64 gradient
// checks, the padding guarantees (padded steps leave h and c alone and give
// zero outputs; a sequence gives the same result alone or in a batch),
// layouts, dropout between layers, and the error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tapegrad_kernels.h"
#include "test_support.h"

namespace {

using test_support::max_abs_diff;
using test_support::check_gradcheck;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::nn::LSTM;
using tg::nn::LSTMCell;
using tg::nn::LSTMOptions;
using tg::nn::LSTMOutput;
using tg::nn::LSTMState;
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
  tg::kernels::copy_into(tg::tensor({0.5, -1.0, 2.0, 0.3}, {4, 1}), cell.weight_ih);
  tg::kernels::copy_into(tg::tensor({1.5, 0.25, -0.75, -0.4}, {4, 1}), cell.weight_hh);
  const double x = 0.8, h = -0.6, c = 0.9;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double i = sig(0.5 * x + 1.5 * h), f = sig(-1.0 * x + 0.25 * h);
  const double g = std::tanh(2.0 * x - 0.75 * h), o = sig(0.3 * x - 0.4 * h);
  const double c_next = f * c + i * g, h_next = o * std::tanh(c_next);
  const LSTMState out = cell(tg::tensor({x}, {1, 1}), {tg::tensor({h}, {1, 1}), tg::tensor({c}, {1, 1})});
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

// ---------------------------------------------------------------------------
// LSTM

TEST_CASE("LSTM: parameter names and shapes follow PyTorch") {
  LSTM lstm(3, 4, two_layer_bidirectional());
  const auto params = lstm.named_parameters();
  const Fixture fixture = load_fixture("lstm_packed.txt");
  const std::vector<std::string> expected = {
      "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
  REQUIRE(params.size() == expected.size());
  const double bound = 1 / std::sqrt(4.0);
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(params[i].first == expected[i]);
    CHECK(params[i].second.shape() == entry(fixture, expected[i]).shape);  // PyTorch's shapes
    double largest = 0;
    for (double v : params[i].second.to_vector<double>()) largest = std::max(largest, std::abs(v));
    CHECK(largest <= bound);
  }
  CHECK(lstm.weights(1, 1).weight_ih.shape() == Shape{16, 8});
  CHECK(lstm.weights(1, 1).weight_ih.is_same(params[12].second));
  CHECK_THROWS_WITH_AS(lstm.weights(2, 0), doctest::Contains("2 layer(s)"), tg::Error);

  LSTMOptions plain;
  plain.bias = false;
  plain.num_layers = 2;
  tg::Generator gen(1);
  LSTM lstm_plain(3, 4, plain, gen);  // float32 with a generator, no dtype spelled out
  CHECK(lstm_plain.named_parameters().size() == 4);
  CHECK(lstm_plain.weights(1).weight_ih.shape() == Shape{16, 4});
  CHECK(lstm_plain.weights(1).weight_ih.dtype() == DType::f32);
  const std::string summary = lstm.summary();
  CHECK(summary.find("weight_hh_l1_reverse") != std::string::npos);
  CHECK(summary.find("LSTM") != std::string::npos);
}

TEST_CASE("LSTM: packed, unsorted, two-layer bidirectional batch matches PyTorch") {
  const Fixture fixture = load_fixture("lstm_packed.txt");
  const Tensor lengths = fixture_lengths(fixture);
  SUBCASE("float64, with gradients of inputs, h0, c0 and every parameter") {
    LSTM lstm(3, 4, two_layer_bidirectional(), DType::f64);
    load_recurrent_parameters(lstm, fixture);
    const Tensor x = fixture_tensor(fixture, "x", DType::f64, true);
    const Tensor h0 = fixture_tensor(fixture, "h0", DType::f64, true);
    const Tensor c0 = fixture_tensor(fixture, "c0", DType::f64, true);
    const LSTMOutput out = lstm(x, h0, c0, lengths);
    check_close(out.output, fixture, "output", 1e-10);
    check_close(out.h_n, fixture, "h_n", 1e-10);
    check_close(out.c_n, fixture, "c_n", 1e-10);
    const Tensor loss = tg::sum(out.output * fixture_tensor(fixture, "loss_output", DType::f64)) +
                        tg::sum(out.h_n * fixture_tensor(fixture, "loss_h_n", DType::f64)) +
                        tg::sum(out.c_n * fixture_tensor(fixture, "loss_c_n", DType::f64));
    loss.backward();
    check_close(x.grad(), fixture, "grad.x", 1e-10);
    check_close(h0.grad(), fixture, "grad.h0", 1e-10);
    check_close(c0.grad(), fixture, "grad.c0", 1e-10);
    for (const auto& [name, p] : lstm.named_parameters()) check_close(p.grad(), fixture, "grad." + name, 1e-10);
  }
  SUBCASE("float32") {
    LSTM lstm(3, 4, two_layer_bidirectional(), DType::f32);
    load_recurrent_parameters(lstm, fixture);
    const LSTMOutput out = lstm(fixture_tensor(fixture, "x", DType::f32), fixture_tensor(fixture, "h0", DType::f32),
                                fixture_tensor(fixture, "c0", DType::f32), lengths);
    CHECK(out.output.dtype() == DType::f32);
    check_close(out.output, fixture, "output", 1e-5);
    check_close(out.h_n, fixture, "h_n", 1e-5);
    check_close(out.c_n, fixture, "c_n", 1e-5);
  }
  SUBCASE("batch_first gives the same numbers in (B, T, ·) layout") {
    LSTMOptions options = two_layer_bidirectional();
    options.batch_first = true;
    LSTM lstm(3, 4, options, DType::f64);
    load_recurrent_parameters(lstm, fixture);
    const Tensor x_tb = fixture_tensor(fixture, "x", DType::f64);
    const Tensor x_bt = tg::transpose(x_tb, 0, 1).contiguous().requires_grad_();  // (B, T, I)
    const Tensor h0 = fixture_tensor(fixture, "h0", DType::f64);
    const Tensor c0 = fixture_tensor(fixture, "c0", DType::f64);
    const LSTMOutput out = lstm(x_bt, h0, c0, lengths);
    REQUIRE(out.output.shape() == Shape{3, 5, 8});
    check_close(tg::transpose(out.output, 0, 1), fixture, "output", 1e-10);
    check_close(out.h_n, fixture, "h_n", 1e-10);
    check_close(out.c_n, fixture, "c_n", 1e-10);
    const Tensor loss_output_bt = tg::transpose(fixture_tensor(fixture, "loss_output", DType::f64), 0, 1);
    const Tensor loss = tg::sum(out.output * loss_output_bt) +
                        tg::sum(out.h_n * fixture_tensor(fixture, "loss_h_n", DType::f64)) +
                        tg::sum(out.c_n * fixture_tensor(fixture, "loss_c_n", DType::f64));
    loss.backward();
    check_close(tg::transpose(x_bt.grad(), 0, 1), fixture, "grad.x", 1e-10);
    // a non-contiguous (B, T, I) view works too
    const LSTMOutput from_view = lstm(tg::transpose(x_tb, 0, 1), h0, c0, lengths);
    check_same(from_view.output, out.output, 1e-14);
  }
}

TEST_CASE("LSTM: a padded sequence gives the same result alone or in a batch") {
  tg::Generator gen(6);
  LSTM lstm(2, 3, two_layer_bidirectional(), DType::f64, gen);
  // The sequence alone: T = 2, B = 1, with its own initial states.
  const Tensor seq = tg::randn({2, 1, 2}, {DType::f64}, gen);
  const Tensor h0_alone = tg::randn({4, 1, 3}, {DType::f64}, gen);
  const Tensor c0_alone = tg::randn({4, 1, 3}, {DType::f64}, gen);
  const LSTMOutput alone = lstm(seq, h0_alone, c0_alone);
  // The same sequence as sequence 1 of a batch padded to T = 5 with garbage.
  Tensor batch = tg::randn({5, 3, 2}, {DType::f64}, gen);
  tg::kernels::copy_into(tg::select(seq, 1, 0), tg::select(tg::slice(batch, 0, 0, 2), 1, 1));
  const Tensor h0 = tg::randn({4, 3, 3}, {DType::f64}, gen), c0 = tg::randn({4, 3, 3}, {DType::f64}, gen);
  tg::kernels::copy_into(tg::select(h0_alone, 1, 0), tg::select(h0, 1, 1));
  tg::kernels::copy_into(tg::select(c0_alone, 1, 0), tg::select(c0, 1, 1));
  const std::vector<int64_t> lengths = {5, 2, 4};
  fill_padding(batch, lengths, 1e3);
  batch.requires_grad_();
  const LSTMOutput padded = lstm(batch, h0, c0, tg::index_tensor(lengths));

  check_same(tg::select(padded.h_n, 1, 1), tg::select(alone.h_n, 1, 0), 1e-14);
  check_same(tg::select(padded.c_n, 1, 1), tg::select(alone.c_n, 1, 0), 1e-14);
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
  (tg::sum(padded.output * padded.output) + tg::sum(padded.h_n) + tg::sum(padded.c_n)).backward();
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = lengths[b]; t < 5; ++t)
      for (double v : tg::select(tg::select(batch.grad(), 0, t), 0, static_cast<int64_t>(b)).to_vector<double>())
        CHECK(v == 0);
}

TEST_CASE("LSTM: lengths of all T equal no lengths, and zero h0, c0 equal none") {
  tg::Generator gen(7);
  LSTM lstm(3, 4, two_layer_bidirectional(), DType::f64, gen);
  const Tensor x = tg::randn({4, 2, 3}, {DType::f64}, gen);
  const LSTMOutput plain = lstm(x);
  const Tensor zero = tg::zeros({4, 2, 4}, {DType::f64});
  const LSTMOutput full = lstm(x, zero, zero, tg::index_tensor({4, 4}));
  check_same(full.output, plain.output);
  check_same(full.h_n, plain.h_n);
  check_same(full.c_n, plain.c_n);
  CHECK(plain.output.shape() == Shape{4, 2, 8});
  CHECK(plain.h_n.shape() == Shape{4, 2, 4});
  CHECK(plain.c_n.shape() == Shape{4, 2, 4});
  // h_n holds the last step of the forward direction and step 0 of the reverse one (top layer).
  check_same(tg::select(plain.h_n, 0, 2), tg::slice(tg::select(plain.output, 0, 3), 1, 0, 4));
  check_same(tg::select(plain.h_n, 0, 3), tg::slice(tg::select(plain.output, 0, 0), 1, 4, 8));
}

TEST_CASE("LSTM: a single unidirectional layer equals LSTMCell steps") {
  tg::Generator gen(8);
  LSTM lstm(3, 4, {}, DType::f64, gen);
  LSTMCell cell(3, 4, {.dtype = DType::f64}, gen);
  const auto& w = lstm.weights(0);
  for (auto [from, to] : {std::pair{w.weight_ih, cell.weight_ih}, {w.weight_hh, cell.weight_hh},
                          {w.bias_ih, cell.bias_ih}, {w.bias_hh, cell.bias_hh}})
    tg::kernels::copy_into(from, to);
  const Tensor x = tg::randn({3, 2, 3}, {DType::f64}, gen);
  const Tensor h0 = tg::randn({1, 2, 4}, {DType::f64}, gen), c0 = tg::randn({1, 2, 4}, {DType::f64}, gen);
  const std::vector<int64_t> lengths = {3, 2};
  const LSTMOutput out = lstm(x, h0, c0, tg::index_tensor(lengths));
  // sequence 0 runs all 3 steps; sequence 1 stops after 2
  LSTMState state{tg::select(h0, 0, 0), tg::select(c0, 0, 0)};
  std::vector<LSTMState> states;
  for (int64_t t = 0; t < 3; ++t) {
    state = cell(tg::select(x, 0, t), state);
    states.push_back(state);
  }
  for (int64_t t = 0; t < 3; ++t)
    check_same(tg::select(tg::select(out.output, 0, t), 0, 0), tg::select(states[t].h, 0, 0), 1e-14);
  check_same(tg::select(tg::select(out.output, 0, 1), 0, 1), tg::select(states[1].h, 0, 1), 1e-14);
  check_same(tg::select(tg::select(out.h_n, 0, 0), 0, 0), tg::select(states[2].h, 0, 0), 1e-14);
  check_same(tg::select(tg::select(out.h_n, 0, 0), 0, 1), tg::select(states[1].h, 0, 1), 1e-14);
  check_same(tg::select(tg::select(out.c_n, 0, 0), 0, 0), tg::select(states[2].c, 0, 0), 1e-14);
  check_same(tg::select(tg::select(out.c_n, 0, 0), 0, 1), tg::select(states[1].c, 0, 1), 1e-14);
}

TEST_CASE("LSTM: float64 gradient check, two bidirectional layers over a padded batch") {
  for (const bool batch_first : {false, true}) {
    INFO("batch_first " << batch_first);
    tg::Generator gen(10);
    LSTMOptions options = two_layer_bidirectional();
    options.batch_first = batch_first;
    LSTM lstm(2, 2, options, DType::f64, gen);
    const Tensor x = tg::randn(batch_first ? Shape{2, 3, 2} : Shape{3, 2, 2}, {DType::f64}, gen).requires_grad_();
    const Tensor h0 = tg::randn({4, 2, 2}, {DType::f64}, gen).requires_grad_();
    const Tensor c0 = tg::randn({4, 2, 2}, {DType::f64}, gen).requires_grad_();
    const Tensor lengths = tg::index_tensor({3, 2});
    Inputs inputs{x, h0, c0};
    for (const Tensor& p : lstm.parameters()) inputs.push_back(p);
    // output, h_n and c_n all enter the checked function
    auto f = [&](const Inputs& in) {
      const LSTMOutput out = lstm(in[0], in[1], in[2], lengths);
      return tg::concat({tg::flatten(out.output), tg::flatten(out.h_n), tg::flatten(out.c_n)}, 0);
    };
    check_gradcheck(tg::gradcheck(f, inputs));
  }
}

TEST_CASE("LSTM: unidirectional gradient check without states or lengths") {
  tg::Generator gen(11);
  LSTMOptions options;
  options.num_layers = 2;
  LSTM lstm(2, 3, options, DType::f64, gen);
  const Tensor x = tg::randn({3, 2, 2}, {DType::f64}, gen).requires_grad_();
  Inputs inputs{x};
  for (const Tensor& p : lstm.parameters()) inputs.push_back(p);
  check_gradcheck(tg::gradcheck([&](const Inputs& in) { return lstm(in[0]).output; }, inputs));
}

TEST_CASE("LSTM: dropout between layers in training mode only, reproducible") {
  LSTMOptions options = two_layer_bidirectional();
  options.dropout = 0.5;
  tg::Generator gen_a(12), gen_b(12);
  LSTM a(3, 4, options, DType::f64, gen_a), b(3, 4, options, DType::f64, gen_b);
  const Tensor x = tg::randn({4, 2, 3}, {DType::f64}, gen_a);
  const LSTMOutput train_a = a(x), train_b = b(x);
  check_same(train_a.output, train_b.output);  // the same seed, the same masks
  const LSTMOutput again = a(x);
  CHECK(max_abs_diff(again.output, train_a.output.to_vector<double>()) > 1e-6);  // fresh masks each call
  a.eval();
  const LSTMOutput eval1 = a(x), eval2 = a(x);
  check_same(eval1.output, eval2.output);
  CHECK(max_abs_diff(eval1.output, train_a.output.to_vector<double>()) > 1e-6);
}

TEST_CASE("LSTM: errors name what was expected and what was got") {
  LSTM lstm(3, 4, two_layer_bidirectional());
  const Tensor x = tg::zeros({5, 2, 3});
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 3})),
                       doctest::Contains("LSTM: x must have rank 3 (T, B, I), got shape (5, 3)"), tg::Error);
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 2, 6})), doctest::Contains("input_size = 3, got 6"), tg::Error);
  CHECK_THROWS_WITH_AS(lstm(x, tg::zeros({2, 2, 4})),
                       doctest::Contains("h0 must have shape (L·D, B, H) = (4, 2, 4), got (2, 2, 4)"), tg::Error);
  CHECK_THROWS_WITH_AS(lstm(x, {}, tg::zeros({4, 3, 4})),
                       doctest::Contains("c0 must have shape (L·D, B, H) = (4, 2, 4), got (4, 3, 4)"), tg::Error);
  CHECK_THROWS_WITH_AS(lstm(x, {}, {}, tg::zeros({2})), doctest::Contains("LSTM: lengths must be int64, got float32"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(lstm(x, {}, {}, tg::index_tensor({5, 5, 5})), doctest::Contains("(B,) = (2,), got (3,)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(lstm(x, {}, {}, tg::index_tensor({5, 6})), doctest::Contains("lengths[1] = 6"), tg::Error);
  CHECK_THROWS_WITH_AS(lstm(x, {}, {}, tg::index_tensor({0, 5})), doctest::Contains("1..T = 1..5"), tg::Error);
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 2, 3}, {DType::f64})), doctest::Contains("x is float64"), tg::Error);
  LSTMOptions bad;
  bad.num_layers = 0;
  CHECK_THROWS_WITH_AS(LSTM(3, 4, bad), doctest::Contains("num_layers must be at least 1, got 0"), tg::Error);
  bad.num_layers = 1;
  bad.dropout = 1.0;
  CHECK_THROWS_WITH_AS(LSTM(3, 4, bad), doctest::Contains("dropout must be in [0, 1), got 1"), tg::Error);
  CHECK_THROWS_WITH_AS(LSTM(0, 4), doctest::Contains("LSTM: sizes must be positive, got input_size=0"), tg::Error);
  LSTMOptions batch_first;
  batch_first.batch_first = true;
  CHECK_THROWS_WITH_AS(LSTM(3, 4, batch_first)(tg::zeros({2, 3})), doctest::Contains("(B, T, I)"), tg::Error);
}

}  // namespace
