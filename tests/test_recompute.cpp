// tg::recompute: one node that saves only its inputs and recomputes fn in
// backward gives the plain run's gradients bit for bit, keeps less memory
// between forward and backward, and passes a float64 gradient check.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tapegrad.h"

using namespace tg;

namespace {

struct Net {
  Tensor w1, w2, b1;
  Generator dropout_stream{21};
  // Three layers' worth of intermediates, with dropout drawn from a stream.
  std::vector<Tensor> operator()(const std::vector<Tensor>& in) {
    const Tensor h = tanh(linear(in[0], transpose(w1, 0, 1), b1));
    const Tensor d = dropout(h, 0.25, true, dropout_stream);
    const Tensor out = sigmoid(matmul(d, w2));
    return {out, sum(h * h, {1})};  // two outputs
  }
};

Net make_net(DType dtype) {
  Generator gen(4);
  const TensorOptions leaf{.dtype = dtype, .requires_grad = true};
  return Net{randn({16, 32}, leaf, gen), randn({32, 8}, leaf, gen), randn({32}, leaf, gen)};
}

// loss = Σ out⊙out + Σ 3·norms, from both of the net's outputs.
Tensor loss_of(const std::vector<Tensor>& outputs) { return sum(outputs[0] * outputs[0]) + sum(outputs[1] * 3.0); }

std::vector<std::vector<float>> grads(const std::vector<Tensor>& tensors) {
  std::vector<std::vector<float>> values;
  for (const Tensor& t : tensors) values.push_back(t.grad().to_vector<float>());
  return values;
}

}  // namespace

TEST_CASE("recompute gives the plain run's gradients bit for bit, dropout included") {
  Generator gen(9);
  const Tensor x_plain = randn({6, 16}, {.requires_grad = true}, gen);
  const Tensor x_checked = x_plain.detach().clone().requires_grad_();

  Net plain = make_net(DType::f32);
  Tape tape;
  TapeScope scope(tape);
  const Tensor loss_plain = loss_of(plain({tanh(x_plain)}));
  loss_plain.backward();

  Net checked = make_net(DType::f32);
  const std::vector<Tensor> outputs =
      recompute([&](const std::vector<Tensor>& in) { return checked(in); }, {tanh(x_checked)},
                 {.generators = {&checked.dropout_stream}});
  const Tensor loss_checked = loss_of(outputs);
  CHECK(loss_checked.item() == loss_plain.item());
  loss_checked.backward();

  CHECK(grads({x_checked, checked.w1, checked.w2, checked.b1}) == grads({x_plain, plain.w1, plain.w2, plain.b1}));
  // The stream is where the plain run left it: the recomputation's draws were undone.
  CHECK(checked.dropout_stream.next_u64() == plain.dropout_stream.next_u64());
  CHECK(tape.live_nodes() == 0);
}

TEST_CASE("recompute keeps only its inputs between forward and backward") {
  Generator gen(2);
  const Tensor x = randn({64, 16}, {}, gen);
  auto saved_after_forward = [&](bool recomputed) {
    Net net = make_net(DType::f32);
    Tape tape;
    TapeScope scope(tape);
    const size_t before = host_memory_stats().in_use_bytes;
    const Tensor loss = recomputed ? loss_of(recompute([&](const std::vector<Tensor>& in) { return net(in); }, {x}))
                                     : loss_of(net({x}));
    const size_t held = host_memory_stats().in_use_bytes - before;
    std::vector<std::string> names;
    for (const Node& node : tape.nodes())
      if (node.live && std::string(node.op) == "recompute")
        for (const Saved& value : node.saved) names.emplace_back(value.describe());
    loss.backward();
    CHECK(net.w1.grad().defined());  // fn's own parameters got their gradients
    return std::make_pair(held, names);
  };
  const auto [plain_bytes, plain_names] = saved_after_forward(false);
  const auto [checked_bytes, checked_names] = saved_after_forward(true);
  CHECK(plain_names.empty());
  CHECK(checked_names == std::vector<std::string>{"input (64, 16) float32"});
  MESSAGE("held after the forward: plain " << plain_bytes << " B, recomputed " << checked_bytes << " B");
  CHECK(checked_bytes * 2 < plain_bytes);
}

TEST_CASE("recompute passes a float64 gradient check") {
  Net net = make_net(DType::f64);
  Generator gen(5);
  const Tensor x = randn({3, 16}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const GradcheckResult result = gradcheck(
      [&](const std::vector<Tensor>& in) {
        net.dropout_stream = Generator(21);  // the same mask at every evaluation
        const std::vector<Tensor> outputs = recompute([&](const std::vector<Tensor>& xs) { return net(xs); },
                                                       {in[0]}, {.generators = {&net.dropout_stream}});
        return loss_of(outputs);
      },
      {x, net.w1, net.w2, net.b1});
  CHECK_MESSAGE(result.ok, result.message);
}

TEST_CASE("recompute says what went wrong") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor x = ones({2, 3}, {.requires_grad = true});
  CHECK_THROWS_WITH_AS(recompute([](const std::vector<Tensor>&) { return std::vector<Tensor>{}; }, {x}),
                       "recompute: fn returned no tensor ", Error);
  int calls = 0;
  const std::vector<Tensor> out = recompute(
      [&](const std::vector<Tensor>& in) {
        ++calls;
        return std::vector<Tensor>{calls == 1 ? in[0] * 2.0 : reshape(in[0] * 2.0, {3, 2})};
      },
      {x});
  CHECK_THROWS_WITH_AS(sum(out[0]).backward(),
                       "recompute: fn's output 0 has shape (3, 2) when run again in backward, "
                       "(2, 3) the first time",
                       Error);
}

TEST_CASE("recompute of a function that returns its input: the gradient passes through") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor x = randn({3}, {.dtype = DType::f64, .requires_grad = true});
  const Tensor w = randn({3}, {.dtype = DType::f64, .requires_grad = true});
  const std::vector<Tensor> out =
      recompute([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0], mul(in[0], in[1])}; }, {x, w});
  sum(add(out[0], out[1])).backward();  // d/dx = 1 + w, d/dw = x
  const std::vector<double> xs = x.to_vector<double>(), ws = w.to_vector<double>();
  for (size_t i = 0; i < 3; ++i) {
    CHECK(x.grad().to_vector<double>()[i] == doctest::Approx(1 + ws[i]));
    CHECK(w.grad().to_vector<double>()[i] == doctest::Approx(xs[i]));
  }
  const Tensor z = randn({2}, {.dtype = DType::f64, .requires_grad = true});
  sum(recompute([](const std::vector<Tensor>& in) { return in; }, {z})[0]).backward();
  CHECK(z.grad().to_vector<double>() == std::vector<double>{1.0, 1.0});
}
