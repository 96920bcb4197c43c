// The tape: recording, reverse walk, accumulation, NoGrad, freeing, errors.
#include <doctest/doctest.h>

#include <thread>

#include "backends/cpu/product_census.h"
#include "tapegrad_kernels.h"
#include "test_support.h"

using namespace tg;

TEST_CASE("records only ops whose inputs require grad") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor constant = ones({2});
  const Tensor y = tanh(constant);
  CHECK(tape.size() == 0);
  CHECK_FALSE(y.requires_grad());
  const Tensor w = ones({2}).requires_grad_();
  const Tensor z = tanh(w + constant);
  CHECK(tape.size() == 2);
  CHECK(tape.nodes()[0].op == std::string("add"));
  CHECK(tape.nodes()[1].op == std::string("tanh"));
  CHECK(z.requires_grad());
  CHECK_FALSE(z.is_leaf());
  CHECK(w.is_leaf());
}

TEST_CASE("gradient of a small expression matches the hand derivation") {
  // L = Σ tanh(w * x + b): dL/dw = x (1 - y²), dL/db = 1 - y²
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = tensor({0.5}, {}, {.dtype = tg::DType::f64, .requires_grad = true}), b = tensor({-0.25}, {}, {.dtype = tg::DType::f64, .requires_grad = true});
  const Tensor x = tensor({1.0, 2.0, 3.0}, {}, {.dtype = tg::DType::f64});
  const Tensor loss = sum(tanh(matmul(reshape(x, {3, 1}), reshape(w, {1, 1})) + b));
  loss.backward();
  double dw = 0, db = 0;
  for (double xi : {1.0, 2.0, 3.0}) {
    const double y = std::tanh(0.5 * xi - 0.25);
    dw += xi * (1 - y * y);
    db += 1 - y * y;
  }
  CHECK(w.grad().item() == doctest::Approx(dw).epsilon(1e-12));
  CHECK(b.grad().item() == doctest::Approx(db).epsilon(1e-12));
}

TEST_CASE("a tensor used twice accumulates both contributions") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor x = tensor({3.0}, {}, {.dtype = tg::DType::f64, .requires_grad = true});
  // y = x + x  ->  dy/dx = 2
  sum(x + x).backward();
  CHECK(x.grad().item() == 2.0);
  // Gradients of leaves accumulate across backward calls until cleared.
  sum(x + x).backward();
  CHECK(x.grad().item() == 4.0);
  x.set_grad(Tensor());
  sum(tanh(x) + x).backward();
  CHECK(x.grad().item() == doctest::Approx(1 + (1 - std::tanh(3.0) * std::tanh(3.0))));
}

TEST_CASE("passing a gradient through does not alias two inputs' buffers") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor a = tensor({1.0, 2.0}, {}, {.dtype = tg::DType::f64, .requires_grad = true}), b = tensor({5.0, 6.0}, {}, {.dtype = tg::DType::f64, .requires_grad = true});
  const Tensor s = a + b;
  s.backward(tensor({1.0, 1.0}, {}, {.dtype = tg::DType::f64}));
  CHECK(a.grad().to_vector<double>() == std::vector<double>{1, 1});
  // Accumulating again into a must not change b's gradient.
  (a + tensor({0.0, 0.0}, {}, {.dtype = tg::DType::f64})).backward(tensor({1.0, 1.0}, {}, {.dtype = tg::DType::f64}));
  CHECK(a.grad().to_vector<double>() == std::vector<double>{2, 2});
  CHECK(b.grad().to_vector<double>() == std::vector<double>{1, 1});
}

TEST_CASE("broadcast gradients are summed back to the input's shape") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor m = zeros({3, 4}, {DType::f64, Device::cpu(), true});
  const Tensor row = zeros({4}, {DType::f64, Device::cpu(), true});
  sum(m + row).backward();
  CHECK(row.grad().shape() == Shape{4});
  CHECK(row.grad().to_vector<double>() == std::vector<double>{3, 3, 3, 3});
  CHECK(m.grad().to_vector<double>() == std::vector<double>(12, 1.0));
}

TEST_CASE("NoGrad records nothing and restores recording after the scope") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = ones({2}).requires_grad_();
  {
    NoGrad no_grad;
    CHECK_FALSE(grad_enabled());
    const Tensor y = tanh(w);
    CHECK_FALSE(y.requires_grad());
    CHECK(tape.size() == 0);
  }
  CHECK(grad_enabled());
  const Tensor recorded = tanh(w);  // held: a result nobody holds is released at once
  CHECK(recorded.requires_grad());
  CHECK(tape.size() == 1);
}

TEST_CASE("backward frees the saved values and resets the tape") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = ones({64, 64}).requires_grad_();
  const size_t before = host_memory_stats().in_use_bytes;
  Tensor loss = sum(tanh(tanh(w)));
  CHECK(tape.size() == 3);
  CHECK(host_memory_stats().in_use_bytes > before);
  loss.backward();
  CHECK(tape.size() == 0);
  loss = Tensor();
  // What remains is w's gradient (64*64 floats) and nothing else.
  CHECK(host_memory_stats().in_use_bytes == before + 64 * 64 * sizeof(float));
}

TEST_CASE("a second backward over a freed graph is a clear error") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = ones({2}).requires_grad_();
  const Tensor loss = sum(tanh(w));
  loss.backward();
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("freed by an earlier backward"), Error);
}

TEST_CASE("retain_graph keeps the graph for a second backward") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = tensor({0.5}, {}, {.dtype = tg::DType::f64, .requires_grad = true});
  const Tensor loss = sum(tanh(w));
  tape.backward(loss, {}, {.retain_graph = true});
  tape.backward(loss);
  const double y = std::tanh(0.5);
  CHECK(w.grad().item() == doctest::Approx(2 * (1 - y * y)));
}

TEST_CASE("backward errors: no grad, non-scalar root, wrong seed shape; a leaf's backward adds its seed") {
  Tape tape;
  TapeScope scope(tape);
  CHECK_THROWS_WITH_AS(sum(ones({2})).backward(), doctest::Contains("does not require grad"), Error);
  const Tensor w = ones({2}).requires_grad_();
  CHECK_THROWS_WITH_AS(tanh(w).backward(), doctest::Contains("root has shape (2,)"), Error);
  CHECK_THROWS_WITH_AS(tanh(w).backward(ones({3})), doctest::Contains("seed gradient of shape (3,) for a root of shape (2,)"), Error);
  CHECK_THROWS_WITH_AS(w.backward(), doctest::Contains("a tensor of 2 elements needs a seed of its shape"), Error);
  // As PyTorch: backward on a leaf adds the seed to its gradient (d w / d w = 1).
  w.backward(full({2}, 0.5));
  w.backward(full({2}, 0.25));
  CHECK(w.grad().to_vector<double>() == std::vector<double>{0.75, 0.75});
  CHECK_THROWS_WITH_AS(w.backward(ones({3})), doctest::Contains("the seed is (3,) and the tensor (2,)"), Error);
}

TEST_CASE("two tapes, two threads: graphs do not mix") {
  auto train_step = [](double start, double* grad) {
    Tape tape;
    TapeScope scope(tape);
    const Tensor w = tensor({start}, {}, true);
    for (int i = 0; i < 200; ++i) {
      w.set_grad(Tensor());
      sum(tanh(w) + w).backward();
    }
    *grad = w.grad().item();
  };
  double g1 = 0, g2 = 0;
  std::thread t1(train_step, 0.1, &g1), t2(train_step, 2.0, &g2);
  t1.join();
  t2.join();
  CHECK(g1 == doctest::Approx(1 + 1 - std::tanh(0.1) * std::tanh(0.1)));
  CHECK(g2 == doctest::Approx(1 + 1 - std::tanh(2.0) * std::tanh(2.0)));
}

TEST_CASE("to_dot draws ops and tensors") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = ones({2, 3}).requires_grad_();
  const Tensor y = tanh(w);
  const std::string dot = tape.to_dot();
  CHECK(dot.find("digraph") != std::string::npos);
  CHECK(dot.find("label=\"tanh\\nsaved y (2, 3) float32\\n24 B\"") != std::string::npos);  // what backward reads
  CHECK(dot.find("(2, 3)") != std::string::npos);
  CHECK(dot.find("->") != std::string::npos);
}

TEST_CASE("gradcheck catches a wrong gradient") {
  // A deliberately wrong op: forward x², backward claims 3x.
  auto wrong_square = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor y = compute::binary(BinaryOp::mul, x, x);
    record("wrong_square", {&x}, y, [x](const Tensor& dy) {
      accumulate_grad(x, compute::binary(BinaryOp::mul, dy, compute::unary(UnaryOp::mul_scalar, x, 3.0)));
    });
    return y;
  };
  Generator gen(7);
  const Tensor x = randn({5}, {DType::f64, Device::cpu(), true}, gen);
  const GradcheckResult r = gradcheck(wrong_square, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("analytic") != std::string::npos);
  CHECK_THROWS_WITH_AS(gradcheck(wrong_square, {ones({2}).requires_grad_()}), doctest::Contains("float64"), Error);
}

TEST_CASE("clone and to(dtype) are recorded; casts to int64 end the graph; contiguous and detach are not") {
  Generator gen(5);
  const Tensor x = randn({3, 2}, {DType::f64, Device::cpu(), true}, gen);
  CHECK(gradcheck([](const std::vector<Tensor>& in) { return mul(in[0].clone(), in[0]); }, {x}).ok);
  CHECK(gradcheck([](const std::vector<Tensor>& in) { return mul(in[0].to(DType::f32).to(DType::f64), in[0]); }, {x},
                  {.eps = 1e-3, .atol = 1e-4, .rtol = 1e-3})
            .ok);  // through float32: coarser differences

  // Mixed precision's cast: a float32 leaf, computed in float64; the gradient arrives in float32.
  const Tensor w = randn({4}, {DType::f32, Device::cpu(), true}, gen);
  const Tensor w64 = w.to(DType::f64);
  CHECK(w64.requires_grad());
  sum(mul(w64, w64)).backward();
  REQUIRE(w.grad().defined());
  CHECK(w.grad().dtype() == DType::f32);
  const std::vector<double> wv = w.to_vector<double>(), gv = w.grad().to_vector<double>();
  for (size_t i = 0; i < wv.size(); ++i) CHECK(gv[i] == doctest::Approx(2 * wv[i]).epsilon(1e-6));

  CHECK(x.to(DType::f64).is_same(x));  // already there: the tensor itself
  CHECK_FALSE(x.to(DType::i64).requires_grad());
  CHECK_FALSE(x.detach().clone().requires_grad());
  CHECK(transpose(x, 0, 1).contiguous().requires_grad());  // recorded, as PyTorch's contiguous()
  {
    NoGrad no_grad;
    CHECK_FALSE(x.clone().requires_grad());
  }
}

TEST_CASE("requires_grad_ on an op's result: turning it on changes nothing, turning it off is refused (as PyTorch)") {
  Generator gen(6);
  const Tensor x = randn({3}, {DType::f64, Device::cpu(), true}, gen);
  Tensor moved = x.to(DType::f32);  // an op's result, as x.to(device) is
  CHECK_FALSE(moved.is_leaf());
  moved.requires_grad_();
  CHECK_FALSE(moved.is_leaf());
  CHECK(moved.requires_grad());
  CHECK_THROWS_WITH_AS(moved.requires_grad_(false), doctest::Contains("detach()"), Error);
  // The copy whose own gradient is kept: detach first, then ask for it.
  Tensor leaf = x.detach().to(DType::f32).requires_grad_();
  CHECK(leaf.is_leaf());
  sum(mul(leaf, leaf)).backward();
  CHECK(leaf.grad().defined());
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("operators: +=, -=, *=, /= rebind and record; x[i] selects; x > 0.0 compares") {
  Generator gen(11);
  const Tensor x = randn({3, 2}, {DType::f64, Device::cpu(), true}, gen);
  CHECK(gradcheck(
            [](const std::vector<Tensor>& in) {
              Tensor total = in[0] * 2.0;
              total += in[0];
              total -= 0.5;
              total *= in[0];
              total /= 4.0;
              return total;  // (3x − 0.5) · x / 4
            },
            {x})
            .ok);
  Tensor total = zeros({2}, {DType::f64});
  const Tensor before = total;
  total += x[1];  // a row, as a recorded view
  CHECK(total.requires_grad());
  CHECK(before.to_vector<double>() == std::vector<double>{0, 0});  // rebinding, not an in-place write
  CHECK(x[-1].to_vector<double>() == select(x, 0, 2).to_vector<double>());
  CHECK(gradcheck([](const std::vector<Tensor>& in) { return in[0][2] * in[0][0]; }, {x}).ok);
  CHECK((x > 0.0).dtype() == DType::boolean);
  CHECK((x > 0.0).to_vector<double>() == gt(x, 0.0).to_vector<double>());
  CHECK((x <= x[0]).to_vector<double>() == le(x, x[0]).to_vector<double>());
  CHECK_THROWS_WITH_AS(x[3], doctest::Contains("index 3 is out of range for dimension 0 of size 3"), Error);
}

TEST_CASE("int64 arithmetic: exact, broadcast, true and floor division, refusals") {
  const Tensor lengths = index_tensor({7, 12, -5, 1});
  CHECK((lengths / 2).to_vector<float>() == std::vector<float>{3.5f, 6, -2.5f, 0.5f});  // true division, as PyTorch's /
  CHECK((lengths / 2).dtype() == DType::f32);
  CHECK(floor_divide(lengths, 2).to_vector<int64_t>() == std::vector<int64_t>{3, 6, -3, 0});  // Python's //
  CHECK(floor_divide(lengths, 2).dtype() == DType::i64);
  CHECK((floor_divide(lengths + 2 * 1 - 3, 2) + 1).to_vector<int64_t>() == std::vector<int64_t>{4, 6, -2, 1});  // conv output lengths
  CHECK((lengths * 3 - lengths).to_vector<int64_t>() == std::vector<int64_t>{14, 24, -10, 2});
  CHECK((10 - lengths).to_vector<int64_t>() == std::vector<int64_t>{3, -2, 15, 9});
  CHECK(floor_divide(index_tensor({100, 100, 100, 100}), lengths).to_vector<int64_t>() == std::vector<int64_t>{14, 8, -20, 100});
  const Tensor big = index_tensor({(int64_t{1} << 53) + 1});  // beyond float64's exact integers: still exact
  CHECK((big + 1).to_vector<int64_t>() == std::vector<int64_t>{(int64_t{1} << 53) + 2});
  const Tensor column = reshape(index_tensor({1, 2}), Shape{2, 1});
  CHECK((column * index_tensor({10, 20, 30})).to_vector<int64_t>() == std::vector<int64_t>{10, 20, 30, 20, 40, 60});
  CHECK_THROWS_WITH_AS(floor_divide(lengths, 0), doctest::Contains("floor_divide: int64 division by zero"), Error);
  CHECK((lengths * 0.5).to_vector<float>() == std::vector<float>{3.5f, 6, -2.5f, 0.5f});  // a float number: float32
  CHECK_THROWS_WITH_AS(index_tensor({int64_t{1} << 62}) * 4, doctest::Contains("int64 overflow"), Error);
  CHECK((lengths + zeros({4})).dtype() == DType::f32);  // int64 with float32: float32, as PyTorch
}

TEST_CASE("gradcheck leaves the inputs' .grad() as it found them") {
  auto square = [](const std::vector<Tensor>& in) { return mul(in[0], in[0]); };
  Generator gen(3);
  const Tensor x = randn({4}, {DType::f64, Device::cpu(), true}, gen);
  CHECK(gradcheck(square, {x}).ok);
  CHECK_FALSE(x.grad().defined());  // undefined before, undefined after
  const Tensor mine = full({4}, 0.25, {DType::f64});
  x.set_grad(mine);
  CHECK(gradcheck(square, {x}).ok);
  CHECK(x.grad().is_same(mine));  // the same tensor, not a copy
  CHECK(x.grad().to_vector<double>() == std::vector<double>(4, 0.25));
  // Also when the function throws.
  auto throws = [](const std::vector<Tensor>&) -> Tensor { fail("user function failed"); };
  CHECK_THROWS_WITH_AS(gradcheck(throws, {x}), doctest::Contains("user function failed"), Error);
  CHECK(x.grad().is_same(mine));
}

// Two losses recorded on one tape whose graphs share no node: each backward
// runs and frees only its own graph.
TEST_CASE("two independent losses on one tape: both orders") {
  for (const bool b_first : {true, false}) {
    CAPTURE(b_first);
    Tape tape;
    TapeScope scope(tape);
    const Tensor w = tensor({1.0, 2.0, 3.0}, {3}, {.dtype = tg::DType::f64, .requires_grad = true});
    const Tensor a = sum(w * 2.0);
    const Tensor b = sum(w * w);
    const size_t live = tape.live_nodes();
    if (b_first) {
      b.backward();
      CHECK(tape.live_nodes() == live - 2);  // b's two nodes released, a's kept
      a.backward();
    } else {
      a.backward();
      b.backward();
    }
    CHECK(w.grad().to_vector<double>() == std::vector<double>{4.0, 6.0, 8.0});  // 2 + 2w
    CHECK(tape.live_nodes() == 0);
    CHECK(tape.size() == 0);
  }
}

TEST_CASE("a shared subgraph: freed by the first backward unless retained") {
  SUBCASE("without retain_graph the second backward through it is an error") {
    Tape tape;
    TapeScope scope(tape);
    const Tensor w = tensor({0.5, -1.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
    const Tensor shared = tanh(w);
    const Tensor a = sum(shared * 3.0);
    const Tensor b = sum(shared * shared);
    b.backward();
    CHECK_THROWS_WITH_AS(a.backward(), doctest::Contains("freed by an earlier backward"), Error);
  }
  SUBCASE("with retain_graph both gradients add up") {
    Tape tape;
    TapeScope scope(tape);
    const Tensor w = tensor({0.5, -1.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
    const Tensor shared = tanh(w);
    const Tensor a = sum(shared * 3.0);
    const Tensor b = sum(shared * shared);
    b.backward({.retain_graph = true});
    a.backward();
    const std::vector<double> grad = w.grad().to_vector<double>();
    for (int i = 0; i < 2; ++i) {
      const double x = std::vector<double>{0.5, -1.0}[i], y = std::tanh(x);
      CHECK(grad[i] == doctest::Approx((2 * y + 3) * (1 - y * y)).epsilon(1e-12));  // d(y² + 3y)/dx
    }
    CHECK(tape.live_nodes() == 2);  // b's own mul and sum, kept by retain_graph
  }
}

TEST_CASE("backward touches only the nodes its root reaches") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = tensor({1.0, 2.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
  const Tensor unrelated = sum(exp(w));  // recorded first, never differentiated here
  const Tensor loss = sum(w * w);
  loss.backward();
  CHECK(w.grad().to_vector<double>() == std::vector<double>{2.0, 4.0});
  CHECK(tape.live_nodes() == 2);  // exp and sum of `unrelated` stay usable
  w.set_grad(Tensor());
  unrelated.backward();
  CHECK(w.grad().to_vector<double>()[1] == doctest::Approx(std::exp(2.0)));
}

TEST_CASE("graphs nobody can reach any more are collected while recording") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = ones({4}).requires_grad_();
  const Tensor kept = sum(w * 3.0);  // alive all along: its nodes must survive collection
  for (int step = 0; step < 3000; ++step) {
    (void)sum(tanh(w));  // a metric the caller drops without backward: 2 dead nodes a step
    Tensor loss = sum(w * w);
    loss.backward();
  }
  CHECK(tape.size() < 4096 + 8);  // dead graphs did not pile up
  kept.backward();
  CHECK(w.grad().to_vector<double>()[0] == doctest::Approx(3000 * 2.0 + 3.0));
}

// ---- custom ops: the dispatch helper, data<T>(op), op names in backward errors ----

namespace {
// y = x / (1 + |x|);  dx += dy / (1 + |x|)²  -- written as a user would, with
// raw loops over contiguous data (core/types/visit_dtype.h).
Tensor softsign(const Tensor& x) {
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), {.dtype = x.dtype()});
  visit_float(x.dtype(), "softsign", [&]<typename T>() {
    const T* in = xc.data<T>("softsign");
    T* out = y.data<T>("softsign");
    for (int64_t i = 0; i < xc.numel(); ++i) out[i] = in[i] / (1 + std::abs(in[i]));
  });
  record("softsign", {&x}, y, [x, xc](const Tensor& dy) {
    const Tensor dyc = dy.contiguous();
    Tensor dx = Tensor::empty(xc.shape(), {.dtype = xc.dtype()});
    visit_float(xc.dtype(), "softsign", [&]<typename T>() {
      const T *in = xc.data<T>("softsign"), *g = dyc.data<T>("softsign");
      T* d = dx.data<T>("softsign");
      for (int64_t i = 0; i < xc.numel(); ++i) d[i] = g[i] / ((1 + std::abs(in[i])) * (1 + std::abs(in[i])));
    });
    accumulate_grad(x, dx);
  });
  return y;
}
}  // namespace

TEST_CASE("visit_float: picks float or double, names the op for other dtypes") {
  CHECK(visit_float(DType::f32, "probe", []<typename T>() { return sizeof(T); }) == sizeof(float));
  CHECK(visit_float(DType::f64, "probe", []<typename T>() { return sizeof(T); }) == sizeof(double));
  CHECK_THROWS_WITH_AS(visit_float(DType::i64, "probe", []<typename T>() {}),
                       "probe: expected a float32 or float64 tensor, got int64", Error);
  CHECK_THROWS_WITH_AS(visit_float(DType::boolean, "probe", []<typename T>() {}),
                       "probe: expected a float32 or float64 tensor, got bool", Error);
}

TEST_CASE("data<T>(op): the error names the caller; data<T>() keeps its message") {
  const Tensor x = tensor({1.0, 2.0}, {}, {.dtype = tg::DType::f64});
  CHECK(x.data<double>("mine") == x.data<double>());
  CHECK_THROWS_WITH_AS(x.data<float>("softsign"), "softsign: tensor holds float64, asked for float32", Error);
  CHECK_THROWS_WITH_AS(x.data<float>(), "data: tensor holds float64, asked for float32", Error);
}

TEST_CASE("a custom op with raw loops: values, gradcheck, strided input, float32") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor x = tensor({-3.0, -0.5, 0.0, 0.25, 2.0, 4.0}, {2, 3}, {.dtype = tg::DType::f64, .requires_grad = true});
  const std::vector<double> y = softsign(x).to_vector<double>();
  const std::vector<double> xs = x.to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) CHECK(y[i] == doctest::Approx(xs[i] / (1 + std::abs(xs[i]))));
  const GradcheckResult straight =
      gradcheck([](const std::vector<Tensor>& in) { return softsign(in[0]); }, {x});
  INFO(straight.message);
  CHECK(straight.ok);
  // A transposed (non-contiguous) input goes through contiguous() and its gradient back to x.
  const GradcheckResult strided =
      gradcheck([](const std::vector<Tensor>& in) { return softsign(transpose(in[0], 0, 1)); }, {x});
  INFO(strided.message);
  CHECK(strided.ok);
  const Tensor x32 = tensor({-1.f, 1.f}, {2}, true);
  sum(softsign(x32)).backward();
  CHECK(x32.grad().to_vector<float>() == std::vector<float>{0.25f, 0.25f});
  CHECK_THROWS_WITH_AS(softsign(index_tensor({1, 2})), doctest::Contains("softsign: expected a float32 or float64"),
                       Error);
}

TEST_CASE("errors thrown inside a backward function carry the op's name") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = tensor({1.0, 2.0}, {2}, {.dtype = tg::DType::f64, .requires_grad = true});
  SUBCASE("a plain message gets '<op> backward: ' in front") {
    Tensor y = zeros({2}, {.dtype = DType::f64});
    record("my_op", {&w}, y, [](const Tensor&) { fail("the cache is stale"); });
    CHECK_THROWS_WITH_AS(sum(y).backward(), "my_op backward: the cache is stale", Error);
  }
  SUBCASE("a dtype mistake in a user's backward names the op (data<T>() says 'data')") {
    Tensor y = zeros({2}, {.dtype = DType::f64});
    record("softsign", {&w}, y, [](const Tensor& dy) { (void)dy.data<float>(); });
    CHECK_THROWS_WITH_AS(sum(y).backward(), "softsign backward: data: tensor holds float64, asked for float32",
                         Error);
  }
  SUBCASE("a message that already names the op is kept as it is") {
    Tensor y = zeros({2}, {.dtype = DType::f64});
    record("softsign", {&w}, y, [](const Tensor& dy) { (void)dy.data<float>("softsign"); });
    CHECK_THROWS_WITH_AS(sum(y).backward(), "softsign: tensor holds float64, asked for float32", Error);
  }
  SUBCASE("accumulate_grad's own 'backward: ' becomes '<op> backward: '") {
    Tensor y = zeros({2}, {.dtype = DType::f64});
    record("widen", {&w}, y, [w](const Tensor& dy) { accumulate_grad(w, dy.to(DType::f32)); });
    CHECK_THROWS_WITH_AS(sum(y).backward(), "widen backward: gradient dtype float32 for a tensor of dtype float64",
                         Error);
  }
  SUBCASE("only tg::Error is rewritten; other exceptions pass unchanged") {
    Tensor y = zeros({2}, {.dtype = DType::f64});
    record("thrower", {&w}, y, [](const Tensor&) { throw std::runtime_error("not ours"); });
    CHECK_THROWS_WITH_AS(sum(y).backward(), "not ours", std::runtime_error);
  }
}

TEST_CASE("a product's gradient for a weight's transpose (or a transposed slice) reaches the weight contiguous") {
  // The products write Wᵀ's gradient in Wᵀ's dimension order (grad_target), so the transpose's backward
  // hands W a contiguous tensor. The values must equal those of the same expression over contiguous
  // copies of the parts (plain buffers all the way), whichever path each use takes.
  Generator gen(5);
  const TensorOptions f64{.dtype = DType::f64};
  const Tensor x = randn({6, 4}, f64, gen), x2 = randn({6, 4}, f64, gen), seed = randn({6, 3}, f64, gen);
  const Tensor b = randn({3}, f64, gen);
  // y = x P + b + x2 P + 1 (R Pᵀ R)[0]: P (4, 3) is used by linear, by matmul (accumulating into its
  // transposed buffer) and transposed back as a left operand; R (3, 3) twice.
  auto expression = [&](const Tensor& p, const Tensor& r) {
    const Tensor term = select(matmul(matmul(r, transpose(p, 0, 1)), p), 0, 0);  // (3,)
    return sum((linear(x, transpose(p, 0, 1), b) + matmul(x2, p) + term) * seed);
  };
  const Tensor w = randn({3, 7}, f64, gen).requires_grad_();  // (out 3, in 4 + 3): two column parts
  Tensor p_copy, r_copy;
  {
    NoGrad no_grad;
    p_copy = transpose(slice(w, 1, 0, 4), 0, 1).contiguous().requires_grad_();
    r_copy = transpose(slice(w, 1, 4, 7), 0, 1).contiguous().requires_grad_();
  }
  Tape tape;
  TapeScope scope(tape);
  expression(transpose(slice(w, 1, 0, 4), 0, 1), transpose(slice(w, 1, 4, 7), 0, 1)).backward();
  expression(p_copy, r_copy).backward();
  REQUIRE(w.grad().is_contiguous());
  CHECK(test_support::max_abs_diff(transpose(slice(w.grad(), 1, 0, 4), 0, 1), p_copy.grad()) < 1e-12);
  CHECK(test_support::max_abs_diff(transpose(slice(w.grad(), 1, 4, 7), 0, 1), r_copy.grad()) < 1e-12);
  CHECK(gradcheck([&](const std::vector<Tensor>& in) {
    return expression(transpose(slice(in[0], 1, 0, 4), 0, 1), transpose(slice(in[0], 1, 4, 7), 0, 1));
  }, {w}).ok);
}

TEST_CASE("backward after the tape is gone says so, not retain_graph") {
  const Tensor x = randn({3}, {.requires_grad = true});
  Tensor loss;
  {
    Tape tape;
    TapeScope scope(tape);
    loss = sum(mul(x, x));
  }
  CHECK_THROWS_WITH_AS(loss.backward(),
                       doctest::Contains("backward: the graph of this tensor is gone: the tape that recorded it was "
                                         "cleared or destroyed"),
                       Error);
  Tape tape;
  TapeScope scope(tape);
  const Tensor y = mul(x, x);
  const Tensor twice = sum(y);
  twice.backward();
  CHECK_THROWS_WITH_AS(twice.backward(), doctest::Contains("freed by an earlier backward (pass {.retain_graph = true}"),
                       Error);
}

// ---- a weight's gradient from every step of a sequence, held and summed as one product ----
// (core/autograd/deferred_products.h: float32 products on the host with K ≤ 128 and M·N ≥ 65536)

namespace {

// Σₜ aₜᵀ bₜ in double, for aₜ (B, P) and bₜ (B, Q): (P, Q), row-major.
std::vector<double> sum_of_products(const std::vector<Tensor>& as, const std::vector<Tensor>& bs) {
  const int64_t p = as[0].size(1), q = bs[0].size(1);
  std::vector<double> out(static_cast<size_t>(p * q), 0.0);
  for (size_t t = 0; t < as.size(); ++t) {
    const std::vector<double> a = as[t].to_vector<double>(), b = bs[t].to_vector<double>();
    for (int64_t r = 0; r < as[t].size(0); ++r)
      for (int64_t i = 0; i < p; ++i)
        for (int64_t j = 0; j < q; ++j) out[static_cast<size_t>(i * q + j)] += a[r * p + i] * b[r * q + j];
  }
  return out;
}

std::vector<double> times(std::vector<double> v, double factor) {
  for (double& x : v) x *= factor;
  return v;
}

}  // namespace

TEST_CASE("a float32 weight used at every step: its gradient is the sum of the steps' products, however it is held") {
  constexpr int64_t batch = 16, in = 256, out = 256;  // dW (256, 256): 65536 elements from K = 16 a step
  Generator gen(11);
  // 45 steps hold 720 rows: two summed products (512 rows at most each); 20 steps one; 1 step a single product.
  for (const int steps : {1, 20, 45}) {
    CAPTURE(steps);
    Tape tape;
    TapeScope scope(tape);
    const Tensor w = randn({in, out}, {}, gen).requires_grad_();        // x W
    const Tensor w_rows = randn({out, in}, {}, gen).requires_grad_();   // x W_rowsᵀ through one transposed view
    const Tensor w_linear = randn({out, in}, {}, gen).requires_grad_(); // linear(x, W_linear)
    const Tensor w_t = transpose(w_rows, 0, 1);  // a node whose output collects the products before its turn
    std::vector<Tensor> xs, cs;
    Tensor loss = zeros({});
    for (int t = 0; t < steps; ++t) {
      xs.push_back(randn({batch, in}, {}, gen));
      cs.push_back(randn({batch, out}, {}, gen));
      loss = loss + sum(matmul(xs.back(), w) * cs.back()) + sum(matmul(xs.back(), w_t) * cs.back()) +
             sum(linear(xs.back(), w_linear) * cs.back());
    }
    const std::vector<double> expected = sum_of_products(xs, cs);  // Σ xᵀ c (in, out)
    const std::vector<double> expected_rows = sum_of_products(cs, xs);  // Σ cᵀ x (out, in)
    // float32 sums of up to 720 products of N(0, 1) pairs: within 1e-4 of the double sums' ~27.
    loss.backward({.retain_graph = true});
    CHECK(test_support::max_abs_diff(w.grad(), expected) < 1e-4);
    CHECK(test_support::max_abs_diff(w_rows.grad(), expected_rows) < 1e-4);
    CHECK(test_support::max_abs_diff(w_linear.grad(), expected_rows) < 1e-4);
    CHECK(w_rows.grad().is_contiguous());
    // A second pass adds the same again: nothing held is lost or added twice between passes.
    loss.backward();
    CHECK(test_support::max_abs_diff(w.grad(), times(expected, 2)) < 2e-4);
    CHECK(test_support::max_abs_diff(w_rows.grad(), times(expected_rows, 2)) < 2e-4);
    CHECK(test_support::max_abs_diff(w_linear.grad(), times(expected_rows, 2)) < 2e-4);
  }
}

TEST_CASE("an attention's values read at every decoder step: their gradient is the steps' products, summed as one") {
  // (B, 1, S) @ (B, S, N) a step: dValues += weightsᵀ @ dContext, (S, 1) @ (1, N) an item, K = 1; held while
  // B·S·N = 8 · 16 · 1024 ≥ 65536, and summed as one product of K = the steps.
  constexpr int64_t batch = 8, source = 16, width = 1024;
  Generator gen(13);
  for (const int steps : {1, 20}) {
    CAPTURE(steps);
    Tape tape;
    TapeScope scope(tape);
    const Tensor values = randn({batch, source, width}, {}, gen).requires_grad_();
    std::vector<std::vector<double>> weights, contexts;
    Tensor loss = zeros({});
    for (int t = 0; t < steps; ++t) {
      const Tensor w = softmax(randn({batch, 1, source}, {}, gen), -1), c = randn({batch, 1, width}, {}, gen);
      weights.push_back(w.to_vector<double>());
      contexts.push_back(c.to_vector<double>());
      loss = loss + sum(matmul(w, values) * c);
    }
    std::vector<double> expected(static_cast<size_t>(batch * source * width), 0.0);  // Σₜ wₜ[b, s] cₜ[b, n]
    for (int t = 0; t < steps; ++t)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t s = 0; s < source; ++s)
          for (int64_t n = 0; n < width; ++n)
            expected[static_cast<size_t>((b * source + s) * width + n)] +=
                weights[t][b * source + s] * contexts[t][b * width + n];
    cpu::reset_product_census();
    cpu::set_product_census(true);
    loss.backward({.retain_graph = true});
    cpu::set_product_census(false);
    CHECK(test_support::max_abs_diff(values.grad(), expected) < 1e-5);
    int64_t summed = 0, others = 0;  // batched products into dValues: of K = steps, and of any other K
    for (const cpu::ProductShape& p : cpu::product_census())
      if (p.batch == batch && p.n == width) (p.k == steps ? summed : others) += p.calls;
    CHECK(summed == 1);
    CHECK(others == 0);
    loss.backward();  // a second pass adds the same again
    CHECK(test_support::max_abs_diff(values.grad(), times(expected, 2)) < 2e-5);
  }
}

TEST_CASE("a backward that throws after some steps' products were held leaves none for the next backward") {
  constexpr int64_t batch = 16, in = 256, out = 256;
  Generator gen(12);
  Tape tape;
  TapeScope scope(tape);
  const Tensor w = randn({in, out}, {}, gen).requires_grad_();
  {
    // Backward runs the later steps first: their products are held when the first step's op throws.
    const Tensor first = matmul(randn({batch, in}, {}, gen), w);
    Tensor failing = zeros({batch, out});
    record("fails_in_backward", {&first}, failing, [](const Tensor&) { fail("no derivative here"); });
    Tensor loss = sum(failing);
    for (int t = 0; t < 10; ++t) loss = loss + sum(matmul(randn({batch, in}, {}, gen), w));
    CHECK_THROWS_WITH_AS(loss.backward(), "fails_in_backward backward: no derivative here", Error);
  }
  tape.clear();
  w.set_grad(Tensor());
  const Tensor x = randn({batch, in}, {}, gen), c = randn({batch, out}, {}, gen);
  sum(matmul(x, w) * c).backward();
  CHECK(test_support::max_abs_diff(w.grad(), sum_of_products({x}, {c})) < 1e-5);
}
