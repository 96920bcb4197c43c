// GRU and LSTM, one case list run on both (the cells and the fused GRU gates
// are tested in test_gru.cpp and test_lstm.cpp): PyTorch's parameter names and
// shapes, values and gradients against PyTorch fixtures
// (tests/fixtures/make_recurrent_fixtures.py: a packed, unsorted, padded
// batch with two bidirectional layers), the padding guarantees, layouts, the
// cell loop, float64 gradient checks, dropout between layers, and the error
// messages. A network's states are a list: {h} for the GRU, {h, c} for the
// LSTM.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tapegrad_kernels.h"
#include "test_support.h"

namespace {

using test_support::check_close;
using test_support::check_gradcheck;
using test_support::check_same;
using test_support::entry;
using test_support::fill_padding;
using test_support::Fixture;
using test_support::fixture_lengths;
using test_support::fixture_tensor;
using test_support::load_fixture;
using test_support::load_recurrent_parameters;
using test_support::max_abs_diff;
using test_support::two_layer_bidirectional;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using Tensors = std::vector<Tensor>;

// What the cases need to know of a network: its types, its gate count, the
// names of its states, and how to call it and its cell with states as a list.
struct GRUCase {
  using Network = tg::nn::GRU;
  using Cell = tg::nn::GRUCell;
  static constexpr const char *name = "GRU";
  static constexpr const char *fixture = "gru_packed.txt";
  static constexpr int64_t gates = 3;  // r | z | n
  static std::vector<std::string> states() { return {"h"}; }
  // -> {output, h_n}
  static Tensors run(const Network &net, const Tensor &x, const Tensors &initial = {}, const Tensor &lengths = {}) {
    const tg::nn::GRUOutput out = net(x, initial.empty() ? Tensor() : initial[0], lengths);
    return {out.output, out.h_n};
  }
  static Tensors step(const Cell &cell, const Tensor &x, const Tensors &state) { return {cell(x, state[0])}; }
};

struct LSTMCase {
  using Network = tg::nn::LSTM;
  using Cell = tg::nn::LSTMCell;
  static constexpr const char *name = "LSTM";
  static constexpr const char *fixture = "lstm_packed.txt";
  static constexpr int64_t gates = 4;  // i | f | g | o
  static std::vector<std::string> states() { return {"h", "c"}; }
  // -> {output, h_n, c_n}
  static Tensors run(const Network &net, const Tensor &x, const Tensors &initial = {}, const Tensor &lengths = {}) {
    const tg::nn::LSTMOutput out =
        net(x, initial.empty() ? Tensor() : initial[0], initial.empty() ? Tensor() : initial[1], lengths);
    return {out.output, out.h_n, out.c_n};
  }
  static Tensors step(const Cell &cell, const Tensor &x, const Tensors &state) {
    const tg::nn::LSTMState next = cell(x, {state[0], state[1]});
    return {next.h, next.c};
  }
};

// One random tensor of `shape` per state of the network.
template <typename Case>
Tensors random_states(const Shape &shape, tg::Generator &gen, bool requires_grad = false) {
  Tensors states;
  for (size_t i = 0; i < Case::states().size(); ++i) {
    states.push_back(tg::randn(shape, {DType::f64}, gen));
    if (requires_grad) states.back().requires_grad_();
  }
  return states;
}

// Every output flattened into one vector, so that gradcheck sees them all.
Tensor flatten_all(const Tensors &outputs) {
  Tensors flat;
  for (const Tensor &t : outputs) flat.push_back(tg::flatten(t));
  return tg::concat(flat, 0);
}

// Σ output ⊙ loss_output + Σ_s s_n ⊙ loss_s_n, the fixture's loss; `output_bt`
// with batch_first.
template <typename Case>
Tensor fixture_loss(const Tensors &out, const Fixture &fixture, bool output_bt = false) {
  Tensor loss_output = fixture_tensor(fixture, "loss_output", DType::f64);
  if (output_bt) loss_output = tg::transpose(loss_output, 0, 1);
  Tensor loss = tg::sum(out[0] * loss_output);
  for (size_t s = 0; s < Case::states().size(); ++s)
    loss = loss + tg::sum(out[s + 1] * fixture_tensor(fixture, "loss_" + Case::states()[s] + "_n", DType::f64));
  return loss;
}

template <typename Case>
Tensors fixture_states(const Fixture &fixture, DType dtype, bool requires_grad = false) {
  Tensors states;
  for (const std::string &s : Case::states()) states.push_back(fixture_tensor(fixture, s + "0", dtype, requires_grad));
  return states;
}

}  // namespace

TEST_CASE_TEMPLATE("recurrent network: parameter names and shapes follow PyTorch", Case, GRUCase, LSTMCase) {
  using Network = typename Case::Network;
  Network net(3, 4, two_layer_bidirectional());
  const auto params = net.named_parameters();
  const Fixture fixture = load_fixture(Case::fixture);
  const std::vector<std::string> expected = {
      "weight_ih_l0",         "weight_hh_l0",         "bias_ih_l0",         "bias_hh_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
      "weight_ih_l1",         "weight_hh_l1",         "bias_ih_l1",         "bias_hh_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
  REQUIRE(params.size() == expected.size());
  const double bound = 1 / std::sqrt(4.0);  // U(±1/√H)
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(params[i].first == expected[i]);
    CHECK(params[i].second.shape() == entry(fixture, expected[i]).shape);  // PyTorch's shapes
    double largest = 0;
    for (double v : params[i].second.template to_vector<double>()) largest = std::max(largest, std::abs(v));
    CHECK(largest <= bound);
  }
  CHECK(net.weights(1, 1).weight_ih.shape() == Shape{Case::gates * 4, 8});
  CHECK(net.weights(1, 1).weight_ih.is_same(params[12].second));
  CHECK_THROWS_WITH_AS(net.weights(2, 0), doctest::Contains("2 layer(s)"), tg::Error);

  tg::nn::RecurrentOptions plain;
  plain.bias = false;
  plain.num_layers = 2;
  tg::Generator gen(1);
  Network net_plain(3, 4, plain,
                    gen);  // float32 with a generator, no dtype spelled out
  CHECK(net_plain.named_parameters().size() == 4);
  CHECK(net_plain.weights(1).weight_ih.shape() == Shape{Case::gates * 4, 4});
  CHECK(net_plain.weights(1).weight_ih.dtype() == DType::f32);
  const std::string summary = net.summary();
  CHECK(summary.find("weight_hh_l1_reverse") != std::string::npos);
  CHECK(summary.find(Case::name) != std::string::npos);
}

TEST_CASE_TEMPLATE(
    "recurrent network: packed, unsorted, two-layer "
    "bidirectional batch matches PyTorch",
    Case, GRUCase, LSTMCase) {
  using Network = typename Case::Network;
  const Fixture fixture = load_fixture(Case::fixture);
  const Tensor lengths = fixture_lengths(fixture);
  const size_t state_count = Case::states().size();
  SUBCASE("float64, with gradients of inputs, initial states and every parameter") {
    Network net(3, 4, two_layer_bidirectional(), DType::f64);
    load_recurrent_parameters(net, fixture);
    const Tensor x = fixture_tensor(fixture, "x", DType::f64, true);
    const Tensors initial = fixture_states<Case>(fixture, DType::f64, true);
    const Tensors out = Case::run(net, x, initial, lengths);
    check_close(out[0], fixture, "output", 1e-10);
    for (size_t s = 0; s < state_count; ++s) check_close(out[s + 1], fixture, Case::states()[s] + "_n", 1e-10);
    fixture_loss<Case>(out, fixture).backward();
    check_close(x.grad(), fixture, "grad.x", 1e-10);
    for (size_t s = 0; s < state_count; ++s)
      check_close(initial[s].grad(), fixture, "grad." + Case::states()[s] + "0", 1e-10);
    for (const auto &[name, p] : net.named_parameters()) check_close(p.grad(), fixture, "grad." + name, 1e-10);
  }
  SUBCASE("float32") {
    Network net(3, 4, two_layer_bidirectional(), DType::f32);
    load_recurrent_parameters(net, fixture);
    const Tensors out =
        Case::run(net, fixture_tensor(fixture, "x", DType::f32), fixture_states<Case>(fixture, DType::f32), lengths);
    CHECK(out[0].dtype() == DType::f32);
    check_close(out[0], fixture, "output", 1e-5);
    for (size_t s = 0; s < state_count; ++s) check_close(out[s + 1], fixture, Case::states()[s] + "_n", 1e-5);
  }
  SUBCASE("batch_first gives the same numbers in (B, T, ·) layout") {
    tg::nn::RecurrentOptions options = two_layer_bidirectional();
    options.batch_first = true;
    Network net(3, 4, options, DType::f64);
    load_recurrent_parameters(net, fixture);
    const Tensor x_tb = fixture_tensor(fixture, "x", DType::f64);
    const Tensor x_bt = tg::transpose(x_tb, 0, 1).contiguous().requires_grad_();  // (B, T, I)
    const Tensors initial = fixture_states<Case>(fixture, DType::f64);
    const Tensors out = Case::run(net, x_bt, initial, lengths);
    REQUIRE(out[0].shape() == Shape{3, 5, 8});
    check_close(tg::transpose(out[0], 0, 1), fixture, "output", 1e-10);
    for (size_t s = 0; s < state_count; ++s) check_close(out[s + 1], fixture, Case::states()[s] + "_n", 1e-10);
    fixture_loss<Case>(out, fixture, /*output_bt=*/true).backward();
    check_close(tg::transpose(x_bt.grad(), 0, 1), fixture, "grad.x", 1e-10);
    // a non-contiguous (B, T, I) view works too
    check_same(Case::run(net, tg::transpose(x_tb, 0, 1), initial, lengths)[0], out[0], 1e-14);
  }
}

TEST_CASE_TEMPLATE("recurrent network: an unbatched sequence (T, I) is a batch of one without its batch axis", Case,
                   GRUCase, LSTMCase) {
  tg::Generator gen(16);
  for (const bool batch_first : {false, true}) {
    CAPTURE(batch_first);
    tg::nn::RecurrentOptions options = two_layer_bidirectional();
    options.batch_first = batch_first;
    typename Case::Network net(2, 3, options, DType::f64, gen);
    const Tensor seq = tg::randn({4, 2}, {DType::f64}, gen);  // (T, I)
    const Tensors initial = random_states<Case>({4, 3}, gen);  // (L·D, H)
    Tensors initial_batched;
    for (const Tensor &s : initial) initial_batched.push_back(tg::unsqueeze(s, 1));
    const Tensors alone = Case::run(net, seq, initial);
    const Tensors batch = Case::run(net, tg::unsqueeze(seq, batch_first ? 0 : 1), initial_batched);
    CHECK(alone[0].shape() == Shape{4, 6});
    check_same(alone[0], tg::squeeze(batch[0], batch_first ? 0 : 1), 0);
    for (size_t s = 1; s < alone.size(); ++s) {
      CHECK(alone[s].shape() == Shape{4, 3});
      check_same(alone[s], tg::squeeze(batch[s], 1), 0);
    }
  }
}

TEST_CASE_TEMPLATE(
    "recurrent network: a padded sequence gives the same result "
    "alone or in a batch",
    Case, GRUCase, LSTMCase) {
  tg::Generator gen(6);
  typename Case::Network net(2, 3, two_layer_bidirectional(), DType::f64, gen);
  // The sequence alone: T = 2, B = 1, with its own initial states.
  const Tensor seq = tg::randn({2, 1, 2}, {DType::f64}, gen);
  const Tensors initial_alone = random_states<Case>({4, 1, 3}, gen);
  const Tensors alone = Case::run(net, seq, initial_alone);
  // The same sequence and states as sequence 1 of a batch padded to T = 5 with
  // garbage.
  Tensor batch = tg::randn({5, 3, 2}, {DType::f64}, gen);
  tg::compute::copy_into(tg::select(seq, 1, 0), tg::select(tg::slice(batch, 0, 0, 2), 1, 1));
  const Tensors initial = random_states<Case>({4, 3, 3}, gen);
  for (size_t s = 0; s < initial.size(); ++s)
    tg::compute::copy_into(tg::select(initial_alone[s], 1, 0), tg::select(initial[s], 1, 1));
  const std::vector<int64_t> lengths = {5, 2, 4};
  fill_padding(batch, lengths, 1e3);
  batch.requires_grad_();
  const Tensors padded = Case::run(net, batch, initial, tg::index_tensor(lengths));

  for (size_t s = 1; s < padded.size(); ++s)  // the final states
    check_same(tg::select(padded[s], 1, 1), tg::select(alone[s], 1, 0), 1e-14);
  check_same(tg::slice(tg::select(padded[0], 1, 1), 0, 0, 2), tg::select(alone[0], 1, 0), 1e-14);
  // outputs at padded steps are exactly zero; valid ones are not
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = 0; t < 5; ++t) {
      const Tensor row = tg::select(tg::select(padded[0], 0, t), 0, static_cast<int64_t>(b));
      double largest = 0;
      for (double v : row.to_vector<double>()) largest = std::max(largest, std::abs(v));
      if (t >= lengths[b])
        CHECK(largest == 0);
      else
        CHECK(largest > 0);
    }
  // and the garbage receives no gradient
  Tensor loss = tg::sum(padded[0] * padded[0]);
  for (size_t s = 1; s < padded.size(); ++s) loss = loss + tg::sum(padded[s]);
  loss.backward();
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = lengths[b]; t < 5; ++t)
      for (double v : tg::select(tg::select(batch.grad(), 0, t), 0, static_cast<int64_t>(b)).to_vector<double>())
        CHECK(v == 0);
}

TEST_CASE_TEMPLATE(
    "recurrent network: lengths of all T equal no lengths, and "
    "zero states equal none",
    Case, GRUCase, LSTMCase) {
  tg::Generator gen(7);
  typename Case::Network net(3, 4, two_layer_bidirectional(), DType::f64, gen);
  const Tensor x = tg::randn({4, 2, 3}, {DType::f64}, gen);
  const Tensors plain = Case::run(net, x);
  const Tensors zero(Case::states().size(), tg::zeros({4, 2, 4}, {DType::f64}));
  const Tensors full = Case::run(net, x, zero, tg::index_tensor({4, 4}));
  REQUIRE(plain.size() == full.size());
  for (size_t i = 0; i < plain.size(); ++i) check_same(full[i], plain[i]);
  CHECK(plain[0].shape() == Shape{4, 2, 8});
  for (size_t s = 1; s < plain.size(); ++s) CHECK(plain[s].shape() == Shape{4, 2, 4});
  // h_n holds the last step of the forward direction and step 0 of the reverse
  // one (top layer).
  check_same(tg::select(plain[1], 0, 2), tg::slice(tg::select(plain[0], 0, 3), 1, 0, 4));
  check_same(tg::select(plain[1], 0, 3), tg::slice(tg::select(plain[0], 0, 0), 1, 4, 8));
}

TEST_CASE_TEMPLATE("recurrent network: a single unidirectional layer equals the cell's steps", Case, GRUCase,
                   LSTMCase) {
  tg::Generator gen(8);
  typename Case::Network net(3, 4, {}, DType::f64, gen);
  typename Case::Cell cell(3, 4, {.dtype = DType::f64}, gen);
  const auto &w = net.weights(0);
  for (auto [from, to] : {std::pair{w.weight_ih, cell.weight_ih},
                          {w.weight_hh, cell.weight_hh},
                          {w.bias_ih, cell.bias_ih},
                          {w.bias_hh, cell.bias_hh}})
    tg::compute::copy_into(from, to);
  const Tensor x = tg::randn({3, 2, 3}, {DType::f64}, gen);
  const Tensors initial = random_states<Case>({1, 2, 4}, gen);
  const std::vector<int64_t> lengths = {3, 2};
  const Tensors out = Case::run(net, x, initial, tg::index_tensor(lengths));
  // sequence 0 runs all 3 steps; sequence 1 stops after 2
  Tensors state;
  for (const Tensor &s : initial) state.push_back(tg::select(s, 0, 0));
  std::vector<Tensors> states;
  for (int64_t t = 0; t < 3; ++t) {
    state = Case::step(cell, tg::select(x, 0, t), state);
    states.push_back(state);
  }
  for (int64_t t = 0; t < 3; ++t)
    check_same(tg::select(tg::select(out[0], 0, t), 0, 0), tg::select(states[t][0], 0, 0), 1e-14);
  check_same(tg::select(tg::select(out[0], 0, 1), 0, 1), tg::select(states[1][0], 0, 1), 1e-14);
  for (size_t s = 0; s < initial.size(); ++s) {  // h_n (and c_n): the state after each sequence's last step
    check_same(tg::select(tg::select(out[s + 1], 0, 0), 0, 0), tg::select(states[2][s], 0, 0), 1e-14);
    check_same(tg::select(tg::select(out[s + 1], 0, 0), 0, 1), tg::select(states[1][s], 0, 1), 1e-14);
  }
}

TEST_CASE_TEMPLATE("recurrent network: bias = false equals zero biases", Case, GRUCase, LSTMCase) {
  tg::Generator gen(9);
  tg::nn::RecurrentOptions with_bias = two_layer_bidirectional();
  tg::nn::RecurrentOptions without = with_bias;
  without.bias = false;
  typename Case::Network a(2, 3, with_bias, DType::f64, gen), b(2, 3, without, DType::f64, gen);
  for (int layer = 0; layer < 2; ++layer)
    for (int d = 0; d < 2; ++d) {
      tg::compute::copy_into(b.weights(layer, d).weight_ih, a.weights(layer, d).weight_ih);
      tg::compute::copy_into(b.weights(layer, d).weight_hh, a.weights(layer, d).weight_hh);
      tg::nn::init::zeros_(a.weights(layer, d).bias_ih);
      tg::nn::init::zeros_(a.weights(layer, d).bias_hh);
    }
  const Tensor x = tg::randn({3, 2, 2}, {DType::f64}, gen);
  const Tensor lengths = tg::index_tensor({1, 3});
  const Tensors with = Case::run(a, x, {}, lengths), plain = Case::run(b, x, {}, lengths);
  for (size_t i = 0; i < with.size(); ++i) check_same(with[i], plain[i], 1e-14);
}

TEST_CASE_TEMPLATE(
    "recurrent network: float64 gradient check, two "
    "bidirectional layers over a padded batch",
    Case, GRUCase, LSTMCase) {
  for (const bool batch_first : {false, true}) {
    INFO("batch_first " << batch_first);
    tg::Generator gen(10);
    tg::nn::RecurrentOptions options = two_layer_bidirectional();
    options.batch_first = batch_first;
    typename Case::Network net(2, 2, options, DType::f64, gen);
    const Tensor x = tg::randn(batch_first ? Shape{2, 3, 2} : Shape{3, 2, 2}, {DType::f64}, gen).requires_grad_();
    const Tensors initial = random_states<Case>({4, 2, 2}, gen, /*requires_grad=*/true);
    const Tensor lengths = tg::index_tensor({3, 2});
    Tensors inputs{x};
    inputs.insert(inputs.end(), initial.begin(), initial.end());
    for (const Tensor &p : net.parameters()) inputs.push_back(p);
    const size_t state_count = initial.size();
    // the output and every final state enter the checked function
    auto f = [&](const Tensors &in) {
      return flatten_all(Case::run(net, in[0], Tensors(in.begin() + 1, in.begin() + 1 + state_count), lengths));
    };
    check_gradcheck(tg::gradcheck(f, inputs));
  }
}

TEST_CASE_TEMPLATE(
    "recurrent network: unidirectional gradient check without "
    "states or lengths",
    Case, GRUCase, LSTMCase) {
  tg::Generator gen(11);
  tg::nn::RecurrentOptions options;
  options.num_layers = 2;
  typename Case::Network net(2, 3, options, DType::f64, gen);
  const Tensor x = tg::randn({3, 2, 2}, {DType::f64}, gen).requires_grad_();
  Tensors inputs{x};
  for (const Tensor &p : net.parameters()) inputs.push_back(p);
  check_gradcheck(tg::gradcheck([&](const Tensors &in) { return Case::run(net, in[0])[0]; }, inputs));
}

TEST_CASE_TEMPLATE(
    "recurrent network: dropout between layers in training mode "
    "only, reproducible",
    Case, GRUCase, LSTMCase) {
  using Network = typename Case::Network;
  tg::nn::RecurrentOptions options = two_layer_bidirectional();
  options.dropout = 0.5;
  tg::Generator gen_a(12), gen_b(12);
  Network a(3, 4, options, DType::f64, gen_a), b(3, 4, options, DType::f64, gen_b);
  const Tensor x = tg::randn({4, 2, 3}, {DType::f64}, gen_a);
  const Tensor train_a = Case::run(a, x)[0];
  check_same(Case::run(b, x)[0], train_a);                                      // the same seed, the same masks
  CHECK(max_abs_diff(Case::run(a, x)[0], train_a.to_vector<double>()) > 1e-6);  // fresh masks each call
  a.eval();
  const Tensor eval1 = Case::run(a, x)[0];
  check_same(Case::run(a, x)[0], eval1);
  CHECK(max_abs_diff(eval1, train_a.to_vector<double>()) > 1e-6);
  // With one layer there is no dropout at all, training or not.
  tg::nn::RecurrentOptions single;
  single.dropout = 0.5;
  Network one(3, 4, single, DType::f64);
  const Tensor t1 = Case::run(one, x)[0];
  one.eval();
  check_same(Case::run(one, x)[0], t1);
}

TEST_CASE_TEMPLATE("recurrent network: errors name what was expected and what was got", Case, GRUCase, LSTMCase) {
  using Network = typename Case::Network;
  tg::Generator gen(3);
  const std::string name = Case::name;
  Network net(3, 4, two_layer_bidirectional());
  const Tensor x = tg::zeros({5, 2, 3});
  const auto run = [&](const Tensor &input, const Tensors &initial = {}, const Tensor &lengths = {}) {
    return Case::run(net, input, initial, lengths);
  };
  CHECK_THROWS_WITH_AS(run(tg::zeros({5})),
                       doctest::Contains((name + ": x must have rank 3 (T, B, I) (or 2, one unbatched sequence (T, I)), "
                                                 "got shape (5,)").c_str()),
                       tg::Error);
  CHECK_THROWS_WITH_AS(run(tg::zeros({5, 3}), {}, tg::index_tensor({5})),
                       doctest::Contains("lengths are for a padded batch; the unbatched input (5, 3)"), tg::Error);
  CHECK_THROWS_WITH_AS(run(tg::zeros({5, 3}), random_states<Case>({4, 1, 4}, gen)),
                       doctest::Contains("must be unbatched too, (num_layers·directions, H) = (4, 4); got (4, 1, 4)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(run(tg::zeros({5, 2, 6})), doctest::Contains("input_size = 3, got 6"), tg::Error);
  // each initial state wrong in turn, the others right
  for (size_t s = 0; s < Case::states().size(); ++s) {
    Tensors initial(Case::states().size(), tg::zeros({4, 2, 4}));
    initial[s] = tg::zeros({2, 2, 4});
    CHECK_THROWS_WITH_AS(
        run(x, initial),
        doctest::Contains((Case::states()[s] + "0 must have shape (L·D, B, H) = (4, 2, 4), got (2, 2, 4)").c_str()),
        tg::Error);
  }
  CHECK_THROWS_WITH_AS(run(x, {}, tg::zeros({2})),
                       doctest::Contains((name + ": lengths must be int64, got float32").c_str()), tg::Error);
  CHECK_THROWS_WITH_AS(run(x, {}, tg::index_tensor({5, 5, 5})), doctest::Contains("(B,) = (2,), got (3,)"), tg::Error);
  CHECK_THROWS_WITH_AS(run(x, {}, tg::index_tensor({5, 6})), doctest::Contains("lengths[1] = 6"), tg::Error);
  CHECK_THROWS_WITH_AS(run(x, {}, tg::index_tensor({0, 5})), doctest::Contains("1..T = 1..5"), tg::Error);
  CHECK_THROWS_WITH_AS(run(tg::zeros({5, 2, 3}, {DType::f64})), doctest::Contains("x is float64"), tg::Error);
  tg::nn::RecurrentOptions bad;
  bad.num_layers = 0;
  CHECK_THROWS_WITH_AS(Network(3, 4, bad), doctest::Contains("num_layers must be at least 1, got 0"), tg::Error);
  bad.num_layers = 1;
  bad.dropout = 1.0;
  CHECK_THROWS_WITH_AS(Network(3, 4, bad), doctest::Contains("dropout must be in [0, 1), got 1"), tg::Error);
  CHECK_THROWS_WITH_AS(Network(0, 4), doctest::Contains((name + ": sizes must be positive, got input_size=0").c_str()),
                       tg::Error);
  tg::nn::RecurrentOptions batch_first;
  batch_first.batch_first = true;
  CHECK_THROWS_WITH_AS(Case::run(Network(3, 4, batch_first), tg::zeros({2, 3, 1, 1})), doctest::Contains("(B, T, I)"),
                       tg::Error);
}
