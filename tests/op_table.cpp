// The op table (tests/op_table.h): every op family in float64, plain and on
// transposed or strided views, with broadcasting, repeated inputs and ties,
// each fused op on its own. The harness that links this file decides what
// each case is checked against.
#include <doctest/doctest.h>

#include <optional>

#include "op_table.h"

using tg::Shape;
using tg::Tensor;
using namespace op_table;

// ---------------------------------------------------------------------------
// binary elementwise

TEST_CASE("add, sub, mul, div: broadcasting, scalars, transposed operands, one input twice") {
  tg::Generator gen(1);
  check_op([](const Inputs& in) { return in[0] + in[1]; }, {randn64({2, 3}, gen), randn64({3}, gen)});
  check_op([](const Inputs& in) { return in[0] + in[1]; }, {randn64({2, 1, 3}, gen), randn64({4, 1}, gen)});
  check_op([](const Inputs& in) { return tg::transpose(in[0], 0, 1) + in[1]; },
           {randn64({3, 2}, gen), randn64({2, 3}, gen)});
  check_op([](const Inputs& in) { return in[0] + 1.5; }, {randn64({4}, gen)});
  check_op([](const Inputs& in) { return in[0] + in[0]; }, {randn64({3}, gen)});

  check_op([](const Inputs& in) { return in[0] - in[1]; }, {randn64({3, 1}, gen), randn64({1, 4}, gen)});
  check_op([](const Inputs& in) { return in[0] - tg::transpose(in[1], 0, 1); },
           {randn64({2, 3}, gen), randn64({3, 2}, gen)});
  check_op([](const Inputs& in) { return 2.0 - in[0]; }, {randn64({4}, gen)});

  check_op([](const Inputs& in) { return in[0] * in[1]; }, {randn64({2, 1, 3}, gen), randn64({4, 1}, gen)});
  check_op([](const Inputs& in) { return tg::transpose(in[0], 0, 1) * in[1]; },
           {randn64({3, 2}, gen), randn64({2, 1}, gen)});
  check_op([](const Inputs& in) { return in[0] * in[0]; }, {randn64({5}, gen)});
  check_op([](const Inputs& in) { return in[0] * -1.5; }, {randn64({4}, gen)});

  check_op([](const Inputs& in) { return in[0] / in[1]; }, {randn64({2, 3}, gen), positive64({3}, gen)});
  check_op([](const Inputs& in) { return in[0] / in[1]; }, {randn64({3, 1}, gen), positive64({1, 2}, gen)});
  check_op([](const Inputs& in) { return in[0] / tg::transpose(in[1], 0, 1); },
           {randn64({2, 3}, gen), positive64({3, 2}, gen)});
  check_op([](const Inputs& in) { return 3.0 / in[0]; }, {positive64({4}, gen)});
}

// ---------------------------------------------------------------------------
// unary elementwise

TEST_CASE("unary ops (neg ... gelu, clamp): plain and on a transposed view") {
  struct Unary {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
    bool positive;  // needs inputs > 0
  };
  const std::vector<Unary> ops = {
      {"neg", [](const Tensor& x) { return -x; }, false},
      {"exp", [](const Tensor& x) { return tg::exp(x); }, false},
      {"log", [](const Tensor& x) { return tg::log(x); }, true},
      {"sqrt", [](const Tensor& x) { return tg::sqrt(x); }, true},
      {"pow 3", [](const Tensor& x) { return tg::pow(x, 3); }, false},
      {"pow 2", [](const Tensor& x) { return tg::pow(x, 2); }, false},
      {"pow 2.5", [](const Tensor& x) { return tg::pow(x, 2.5); }, true},
      {"pow -1", [](const Tensor& x) { return tg::pow(x, -1); }, true},
      {"sigmoid", [](const Tensor& x) { return tg::sigmoid(x); }, false},
      {"relu", [](const Tensor& x) { return tg::relu(x); }, false},
      {"tanh", [](const Tensor& x) { return tg::tanh(x); }, false},
      {"abs", [](const Tensor& x) { return tg::abs(x); }, false},
      {"log1p", [](const Tensor& x) { return tg::log1p(x); }, true},
      {"softplus", [](const Tensor& x) { return tg::softplus(x); }, false},
      {"softplus beta 3, threshold 2", [](const Tensor& x) { return tg::softplus(x, 3, 2); }, false},
      {"gelu", [](const Tensor& x) { return tg::gelu(x); }, false},
      {"gelu tanh", [](const Tensor& x) { return tg::gelu(x, tg::GeluApproximation::tanh); }, false},
      {"clamp", [](const Tensor& x) { return tg::clamp(x, -0.7, 0.9); }, false},
      {"clamp above", [](const Tensor& x) { return tg::clamp(x, std::nullopt, 0.3); }, false},
      {"sin", [](const Tensor& x) { return tg::sin(x); }, false},
      {"cos", [](const Tensor& x) { return tg::cos(x); }, false},
      {"rsqrt", [](const Tensor& x) { return tg::rsqrt(x); }, true},
      {"silu", [](const Tensor& x) { return tg::silu(x); }, false},
  };
  tg::Generator gen(2);
  for (const Unary& op : ops) {
    CAPTURE(op.name);
    auto input = [&] { return op.positive ? positive64({2, 3}, gen) : randn64({2, 3}, gen); };
    check_op([&](const Inputs& in) { return op.f(in[0]); }, {input()});
    check_op([&](const Inputs& in) { return op.f(tg::transpose(in[0], 0, 1)); }, {input()});
  }
  check_op(
      [](const Inputs& in) {
        const Tensor& x = in[0];
        return x * tg::sigmoid(x) - tg::exp(tg::log(x)) / tg::sqrt(tg::pow(x, 2));
      },
      {positive64({5}, gen)});
}

// ---------------------------------------------------------------------------
// reductions

TEST_CASE("sum and mean: all, over axes, keepdim, of a transposed view") {
  tg::Generator gen(3);
  check_op([](const Inputs& in) { return tg::sum(in[0]); }, {randn64({2, 3}, gen)});
  check_op([](const Inputs& in) { return tg::sum(in[0], {1}); }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::sum(in[0], {0, 2}, true); }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::sum(tg::transpose(in[0], 0, 2), {-1}); }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::mean(in[0]); }, {randn64({2, 3}, gen)});
  check_op([](const Inputs& in) { return tg::mean(in[0], {0, 2}); }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::mean(tg::transpose(in[0], 0, 1), {1}, true); },
           {randn64({2, 3, 4}, gen)});
}

TEST_CASE("max, min, argmax, argmin: values and gradient along every axis; indices, ties included") {
  tg::Generator gen(4);
  check_op([](const Inputs& in) { return tg::max(in[0], 1).values; }, {randn64({3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::max(in[0], 0).values; }, {randn64({3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::max(in[0], 1, true).values; }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::max(in[0], -1).values; }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::max(tg::transpose(in[0], 0, 2), 1).values; },
           {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::max(in[0], 0).values; }, {randn64({5}, gen)});
  check_op([](const Inputs& in) { return tg::min(in[0], 1).values; }, {randn64({3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::min(in[0], 0, true).values; }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::min(tg::transpose(in[0], 0, 2), -1).values; },
           {randn64({2, 3, 4}, gen)});
  // Ties: the first maximum wins, for the index and for the gradient.
  const Tensor ties = f64({1, 5, 3, 7, 2, 7}, {2, 3});
  for (int axis : {0, 1}) {
    CAPTURE(axis);
    check_value([axis](const Inputs& in) { return tg::max(in[0], axis).indices; }, {ties});
    check_value([axis](const Inputs& in) { return tg::min(in[0], axis).indices; }, {ties});
    check_value([axis](const Inputs& in) { return tg::argmax(in[0], axis); }, {ties});
    check_value([axis](const Inputs& in) { return tg::argmin(in[0], axis, true); }, {ties});
    check_value([axis](const Inputs& in) { return tg::max(tg::transpose(in[0], 0, 1), axis, true).indices; },
                {ties});
  }
  check_value([](const Inputs& in) { return tg::argmax(in[0], 0); }, {tg::index_tensor({4, 9, 9, -1})});
  // The gradient goes to the first maximum only.
  Tensor x = ties.to(table_device());
  x.requires_grad_();
  tg::sum(tg::max(x, 1).values * on(f64({1, 10}, {2}), x)).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 1, 0, 10, 0, 0});
}

TEST_CASE("softmax and log_softmax: every axis, transposed views") {
  tg::Generator gen(5);
  for (bool log : {false, true}) {
    CAPTURE(log);
    auto f = [log](int axis) {
      return [log, axis](const Inputs& in) { return log ? tg::log_softmax(in[0], axis) : tg::softmax(in[0], axis); };
    };
    check_op(f(-1), {randn64({3, 4}, gen)});
    check_op(f(0), {randn64({3, 4}, gen)});
    check_op(f(1), {randn64({2, 3, 4}, gen)});
    check_op(f(0), {randn64({5}, gen)});
    check_op(
        [log](const Inputs& in) {
          const Tensor xt = tg::transpose(in[0], 0, 2);
          return log ? tg::log_softmax(xt, 1) : tg::softmax(xt, 1);
        },
        {randn64({2, 3, 4}, gen)});
  }
}

// ---------------------------------------------------------------------------
// losses

TEST_CASE("cross_entropy: reductions, label smoothing, ignore_index, (N, T, C), transposed logits") {
  tg::Generator gen(6);
  const Tensor target = tg::index_tensor({0, 4, -100, 2, 1, 3});
  const Tensor target3 = tg::index_tensor({0, 4, -100, 2, 1, 3}, {2, 3});
  for (double eps : {0.0, 0.1})
    for (tg::Reduction reduction : {tg::Reduction::mean, tg::Reduction::sum, tg::Reduction::none}) {
      CAPTURE(eps);
      CAPTURE(static_cast<int>(reduction));
      const tg::CrossEntropyOptions options{.label_smoothing = eps, .reduction = reduction};
      check_op([&](const Inputs& in) { return tg::cross_entropy(in[0], on(target, in[0]), options); },
               {randn64({6, 5}, gen)});
      check_op(
          [&](const Inputs& in) { return tg::cross_entropy(tg::transpose(in[0], 0, 1), on(target, in[0]), options); },
          {randn64({5, 6}, gen)});
      check_op([&](const Inputs& in) { return tg::cross_entropy(in[0], on(target3, in[0]), options); },
               {randn64({2, 3, 5}, gen)});
    }
  // Every target ignored: 0 and a zero gradient, not NaN.
  const Tensor none = tg::index_tensor({-100, -100});
  check_op([&](const Inputs& in) { return tg::cross_entropy(in[0], on(none, in[0]), {.label_smoothing = 0.2}); },
           {randn64({2, 3}, gen)});
}

TEST_CASE("mse_loss: reductions and a transposed input") {
  tg::Generator gen(7);
  for (tg::Reduction reduction : {tg::Reduction::mean, tg::Reduction::sum, tg::Reduction::none}) {
    CAPTURE(static_cast<int>(reduction));
    check_op([reduction](const Inputs& in) { return tg::mse_loss(in[0], in[1], reduction); },
             {randn64({3, 4}, gen), randn64({3, 4}, gen)});
  }
  check_op([](const Inputs& in) { return tg::mse_loss(tg::transpose(in[0], 0, 1), in[1]); },
           {randn64({4, 3}, gen), randn64({3, 4}, gen)});
}

// ---------------------------------------------------------------------------
// matmul

TEST_CASE("matmul: 2-D, batched, broadcast batches, transposed operands, x @ x") {
  tg::Generator gen(8);
  auto mm = [](const Inputs& in) { return tg::matmul(in[0], in[1]); };
  check_op(mm, {randn64({3, 4}, gen), randn64({4, 2}, gen)});
  check_op(mm, {randn64({2, 3, 4}, gen), randn64({2, 4, 5}, gen)});
  check_op(mm, {randn64({2, 3, 4}, gen), randn64({4, 5}, gen)});        // (B, M, K) @ (K, N)
  check_op(mm, {randn64({3, 4}, gen), randn64({2, 4, 5}, gen)});        // (M, K) @ (B, K, N)
  check_op(mm, {randn64({2, 1, 3, 4}, gen), randn64({3, 4, 2}, gen)});  // batch broadcast
  check_op(mm, {randn64({1, 3, 4}, gen), randn64({2, 4, 2}, gen)});
  check_op([](const Inputs& in) { return tg::matmul(tg::transpose(in[0], 0, 1), in[1]); },
           {randn64({4, 3}, gen), randn64({4, 2}, gen)});
  check_op([](const Inputs& in) { return tg::matmul(in[0], tg::transpose(in[1], 0, 1)); },
           {randn64({3, 4}, gen), randn64({2, 4}, gen)});
  check_op([](const Inputs& in) { return tg::matmul(tg::transpose(in[0], 1, 2), in[1]); },
           {randn64({2, 4, 3}, gen), randn64({4, 2}, gen)});
  check_op([](const Inputs& in) { return tg::matmul(tg::transpose(in[0], 0, 1), tg::transpose(in[1], 1, 2)); },
           {randn64({3, 2, 4}, gen), randn64({2, 5, 4}, gen)});
  check_op([](const Inputs& in) { return tg::matmul(in[0], in[0]); }, {randn64({3, 3}, gen)});
  // Through a slice with no unit stride, which the GPU packs before cuBLAS.
  check_op([](const Inputs& in) { return tg::matmul(tg::slice(in[0], 1, 0, 8, 2), in[1]); },
           {randn64({3, 8}, gen), randn64({4, 2}, gen)});
}

// ---------------------------------------------------------------------------
// shape ops

TEST_CASE("reshape, flatten, unsqueeze, squeeze") {
  tg::Generator gen(9);
  check_op([](const Inputs& in) { return tg::reshape(in[0], {4, -1}); }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::reshape(tg::transpose(in[0], 0, 2), {-1, 6}); },
           {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::flatten(tg::transpose(in[0], 0, 1), 1); }, {randn64({2, 3, 2}, gen)});
  check_op([](const Inputs& in) { return tg::squeeze(tg::unsqueeze(in[0], 1), 1) * in[0]; },
           {randn64({3, 2}, gen)});
  check_op([](const Inputs& in) { return tg::unsqueeze(tg::transpose(in[0], 0, 1), 0); }, {randn64({3, 2}, gen)});
}

TEST_CASE("expand and broadcast_to: stride-0 views, backward sums over the grown dimensions") {
  tg::Generator gen(16);
  check_op([](const Inputs& in) { return tg::expand(in[0], Shape{3, 2, 4}); }, {randn64({2, 1}, gen)});
  check_op([](const Inputs& in) { return tg::broadcast_to(in[0], Shape{2, 3, 4}) * in[1]; },
           {randn64({3, 1}, gen), randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::expand(tg::transpose(in[0], 0, 1), Shape{2, -1, 3}); },
           {randn64({3, 1}, gen)});
}

TEST_CASE("permute and transpose") {
  tg::Generator gen(10);
  check_op([](const Inputs& in) { return tg::permute(in[0], {1, 2, 0}); }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::transpose(in[0], -1, 0); }, {randn64({2, 3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::permute(in[0], {2, 0, 1}) * 2.0; }, {randn64({2, 3, 4}, gen)});
}

TEST_CASE("slice and select, overlapping reads accumulate") {
  tg::Generator gen(11);
  check_op([](const Inputs& in) { return tg::slice(in[0], 1, 1, 5, 2); }, {randn64({3, 6}, gen)});
  check_op([](const Inputs& in) { return tg::slice(tg::transpose(in[0], 0, 1), 0, -3, 6); },
           {randn64({3, 6}, gen)});
  check_op([](const Inputs& in) { return tg::slice(in[0], 0, 0, 3) * tg::slice(in[0], 0, 1, 4); },
           {randn64({4, 2}, gen)});
  check_op([](const Inputs& in) { return tg::select(in[0], 1, -2); }, {randn64({2, 3, 4}, gen)});
  check_op(
      [](const Inputs& in) { return tg::select(tg::transpose(in[0], 0, 2), 0, 1) * tg::select(in[0], 0, 3); },
      {randn64({4, 3, 4}, gen)});
}

TEST_CASE("index_select and embedding: repeated indices, a padding row, transposed tables") {
  tg::Generator gen(12);
  const Tensor idx = tg::index_tensor({2, 0, 2, 1, 2});
  check_op([&](const Inputs& in) { return tg::index_select(in[0], 0, on(idx, in[0])); }, {randn64({3, 2}, gen)});
  check_op([&](const Inputs& in) { return tg::index_select(in[0], 1, on(idx, in[0])); }, {randn64({2, 3, 2}, gen)});
  check_op([&](const Inputs& in) { return tg::index_select(tg::transpose(in[0], 0, 1), 2, on(idx, in[0])); },
           {randn64({2, 4, 3}, gen)});

  const Tensor ids = tg::index_tensor({1, 3, 1, 0, 1, 2}, {2, 3});
  check_op([&](const Inputs& in) { return tg::embedding(in[0], on(ids, in[0])); }, {randn64({4, 3}, gen)});
  // Padding row 1 gets no gradient; the positions that read it are masked out
  // of the result, so its true gradient is zero too.
  const Tensor reads_padding = tg::unsqueeze(tg::eq(ids, 1.0), -1);
  check_op(
      [&](const Inputs& in) {
        return tg::masked_fill(tg::embedding(in[0], on(ids, in[0]), 1), on(reads_padding, in[0]), 0);
      },
      {randn64({4, 3}, gen)});
  check_op([&](const Inputs& in) { return tg::embedding(tg::transpose(in[0], 0, 1), on(ids, in[0])); },
           {randn64({2, 4}, gen)});
  // Many repeats of few rows: the scatter-add of the backward sums them all.
  std::vector<int64_t> many(300);
  for (size_t i = 0; i < many.size(); ++i) many[i] = int64_t(i * 7 % 5);
  const Tensor repeated = tg::index_tensor(many);
  check_op([&](const Inputs& in) { return tg::embedding(in[0], on(repeated, in[0])); }, {randn64({5, 3}, gen)});
}

TEST_CASE("concat and stack, transposed inputs and one input twice") {
  tg::Generator gen(13);
  check_op([](const Inputs& in) { return tg::concat({in[0], in[1], in[2]}, 1); },
           {randn64({2, 1, 3}, gen), randn64({2, 2, 3}, gen), randn64({2, 3, 3}, gen)});
  check_op([](const Inputs& in) { return tg::concat({tg::transpose(in[0], 0, 1), in[1], in[0]}, 0); },
           {randn64({3, 3}, gen), randn64({2, 3}, gen)});
  check_op([](const Inputs& in) { return tg::stack({in[0], in[1], in[0]}, 1); },
           {randn64({2, 3}, gen), randn64({2, 3}, gen)});
  check_op([](const Inputs& in) { return tg::stack({tg::transpose(in[0], 0, 1), in[1]}, -1); },
           {randn64({3, 2}, gen), randn64({2, 3}, gen)});
}

// ---------------------------------------------------------------------------
// comparisons, where, masked_fill, dropout

TEST_CASE("comparisons, logical ops and sequence_mask: masks with broadcasting, scalars, ties and int64") {
  const Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = f64({2, 2, 5}, {3});
  const std::vector<std::function<Tensor(const Tensor&, const Tensor&)>> compare = {
      [](const Tensor& x, const Tensor& y) { return tg::eq(x, y); },
      [](const Tensor& x, const Tensor& y) { return tg::ne(x, y); },
      [](const Tensor& x, const Tensor& y) { return tg::lt(x, y); },
      [](const Tensor& x, const Tensor& y) { return tg::le(x, y); },
      [](const Tensor& x, const Tensor& y) { return tg::gt(x, y); },
      [](const Tensor& x, const Tensor& y) { return tg::ge(x, y); },
  };
  for (size_t i = 0; i < compare.size(); ++i) {
    CAPTURE(i);
    const auto& c = compare[i];
    check_value([&](const Inputs& in) { return c(in[0], in[1]); }, {a, b});
    check_value([&](const Inputs& in) { return c(tg::transpose(in[0], 0, 1), tg::unsqueeze(in[1], 1)); }, {a, b});
  }
  check_value([](const Inputs& in) { return tg::ge(in[0], 3.0); }, {a});
  const Tensor ids = tg::index_tensor({0, 3, 1, 0});
  check_value([](const Inputs& in) { return tg::eq(in[0], 0.0); }, {ids});
  check_value([](const Inputs& in) { return tg::gt(in[0], in[1]); }, {ids, tg::index_tensor({1})});

  const Tensor m1 = tg::gt(f64({1, 0, 1, 0}, {4}), 0.5), m2 = tg::gt(f64({1, 0}, {2, 1}), 0.5);
  check_value([](const Inputs& in) { return tg::logical_not(in[0]); }, {m1});
  check_value([](const Inputs& in) { return tg::logical_and(in[0], in[1]); }, {m2, m1});
  check_value([](const Inputs& in) { return tg::logical_or(in[0], in[1]); }, {m1, m2});
  const Tensor lengths = tg::index_tensor({2, 0, 3});
  check_value([](const Inputs& in) { return tg::sequence_mask(in[0]); }, {lengths});
  check_value([](const Inputs& in) { return tg::sequence_mask(in[0], 4); }, {lengths});
}

TEST_CASE("where and masked_fill: broadcast conditions and values") {
  tg::Generator gen(14);
  const Tensor cond = tg::gt(tg::randn({2, 1, 4}, {}, gen), 0.0);
  check_op([&](const Inputs& in) { return tg::where(on(cond, in[0]), in[0], in[1]); },
           {randn64({3, 4}, gen), randn64({2, 3, 4}, gen)});
  check_op([&](const Inputs& in) { return tg::where(on(cond, in[0]), in[0], in[1]); },
           {randn64({4}, gen), randn64({1, 3, 1}, gen)});
  check_op([&](const Inputs& in) { return tg::where(on(cond, in[0]), tg::transpose(in[0], 0, 1), in[0]); },
           {randn64({4, 4}, gen)});
  const Tensor mask = tg::gt(tg::randn({3, 1}, {}, gen), 0.0);
  check_op([&](const Inputs& in) { return tg::masked_fill(in[0], on(mask, in[0]), 2.5); }, {randn64({3, 4}, gen)});
  check_op([&](const Inputs& in) { return tg::masked_fill(tg::transpose(in[0], 0, 1), on(mask, in[0]), 0); },
           {randn64({4, 3}, gen)});
}

TEST_CASE("dropout: the same seed draws the same mask on both devices; gradient") {
  tg::Generator gen(15);
  check_op(
      [](const Inputs& in) {
        tg::Generator fixed(99);  // re-seeded so every evaluation draws the same mask
        return tg::dropout(in[0], 0.4, true, fixed);
      },
      {randn64({5, 6}, gen)});
  check_op(
      [](const Inputs& in) {
        tg::Generator fixed(5);
        return tg::dropout(tg::transpose(in[0], 0, 1), 0.5, true, fixed);
      },
      {randn64({4, 3}, gen)});
  // Evaluation mode: the identity (of a product, so that there is a graph).
  check_op([](const Inputs& in) { return tg::dropout(in[0] * 3.0, 0.5, false); }, {randn64({3, 2}, gen)});
}

// ---------------------------------------------------------------------------
// fused ops

TEST_CASE("additive_score: a (B, S, A) step, keys as a strided view, one input needing no gradient") {
  tg::Generator gen(23);
  check_op([](const Inputs& in) { return tg::additive_score(in[0], in[1], in[2]); },
           {randn64({3, 5, 7}, gen), randn64({3, 7}, gen), randn64({7}, gen)});
  check_op([](const Inputs& in) { return tg::additive_score(tg::transpose(in[0], 0, 1), in[1], in[2]); },
           {randn64({4, 2, 6}, gen), randn64({2, 6}, gen), tg::randn({6}, {tg::DType::f64}, gen)});
}

TEST_CASE("gru_gates: a (B, 3H) step, transposed gate inputs, h needing no gradient") {
  tg::Generator gen(24);
  check_op([](const Inputs& in) { return tg::gru_gates(in[0], in[1], in[2]); },
           {randn64({3, 12}, gen), randn64({3, 12}, gen), randn64({3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::gru_gates(tg::transpose(in[0], 0, 1), in[1], in[2]); },
           {randn64({6, 2}, gen), randn64({2, 6}, gen), tg::randn({2, 2}, {tg::DType::f64}, gen)});
}

// ---------------------------------------------------------------------------
// PyTorch's arithmetic rules (tests/test_dtype_rules.cpp has the values)

TEST_CASE("scans, products, 1-D matmul and the integer ops on every backend") {
  tg::Generator gen(31);
  check_op([](const Inputs& in) { return tg::cumsum(in[0], 0); }, {randn64({6}, gen)});
  check_op([](const Inputs& in) { return tg::cumsum(in[0], 1); }, {randn64({2, 5, 3}, gen)});
  check_op([](const Inputs& in) { return tg::cumsum(tg::transpose(in[0], 0, 1), -1); }, {randn64({4, 3}, gen)});
  check_op([](const Inputs& in) { return tg::cumprod(in[0], 1); }, {randn64({3, 5}, gen)});
  check_op([](const Inputs& in) { return tg::prod(in[0], 0); }, {randn64({4, 3}, gen)});
  check_op([](const Inputs& in) { return tg::prod(in[0]); }, {randn64({2, 3}, gen)});
  // A row with one zero and one with two: the gradient without division.
  check_op([](const Inputs& in) { return tg::cumprod(in[0], 1); },
           {f64({1.5, 0.0, -2.0, 0.5, 0.0, 3.0, 0.0, 1.25}, {2, 4}).requires_grad_()});
  check_op([](const Inputs& in) { return tg::dot(in[0], in[1]); }, {randn64({5}, gen), randn64({5}, gen)});
  check_op([](const Inputs& in) { return tg::mv(in[0], in[1]); }, {randn64({3, 4}, gen), randn64({4}, gen)});
  check_op([](const Inputs& in) { return tg::matmul(in[0], in[1]); }, {randn64({4}, gen), randn64({2, 4, 3}, gen)});

  // Integers: exact, as int64 (inputs are whole numbers, negative ones included).
  const Tensor a = f64({-7, 7, -8, 9, 0, -1}, {2, 3}), b = f64({2, -2, 3, 4, -5, 3}, {2, 3});
  auto ints = [](const Tensor& x) { return x.detach().to(tg::DType::i64); };
  check_value([&](const Inputs& in) { return tg::floor_divide(ints(in[0]), ints(in[1])); }, {a, b});
  check_value([&](const Inputs& in) { return tg::div(ints(in[0]), ints(in[1]), tg::RoundingMode::trunc); }, {a, b});
  check_value([&](const Inputs& in) { return tg::remainder(ints(in[0]), ints(in[1])); }, {a, b});
  check_value([&](const Inputs& in) { return tg::fmod(ints(in[0]), 3); }, {a});
  check_value([&](const Inputs& in) { return ints(in[0]) / ints(in[1]); }, {a, b});  // true division: float32
  check_value([&](const Inputs& in) { return tg::cumsum(ints(in[0]), 1); }, {a});
  check_value([&](const Inputs& in) { return tg::cumprod(ints(in[0]), 1); }, {a});
  check_value([&](const Inputs& in) { return ints(in[0]).sum(); }, {a});
  check_value([&](const Inputs& in) { return ints(in[0]).abs() - ints(in[1]); }, {a, b});
  check_value([&](const Inputs& in) { return tg::one_hot(tg::remainder(ints(in[0]), 10), 10); }, {a});
  // Floats: floor and truncation, remainder with the divisor's sign, fmod with the dividend's.
  const Tensor x = f64({-3.5, 3.5, -2.25, 7.0, 0.5, -0.75}, {2, 3});
  check_value([](const Inputs& in) { return tg::floor_divide(in[0].detach(), 2.0); }, {x});
  check_value([](const Inputs& in) { return tg::div(in[0].detach(), -1.5, tg::RoundingMode::trunc); }, {x});
  check_value([](const Inputs& in) { return tg::remainder(in[0].detach(), -2.0); }, {x});
  check_value([](const Inputs& in) { return tg::fmod(in[0].detach(), 2.0); }, {x});
  check_value([](const Inputs& in) { return tg::arange(in[0].size(1), {.dtype = tg::DType::i64, .device = in[0].device()}); },
              {x});
}

TEST_CASE("sort, argsort, index_add, repeat, unique, nonzero: ties, transposed views, repeated indices") {
  tg::Generator gen(41);
  const Tensor ties = f64({1, 3, 1, 2, 3, 3, 0, 2}, {2, 4});  // equal values keep their order (stable)
  check_op([](const Inputs& in) { return tg::sort(in[0], 1, true).values; }, {randn64({3, 4}, gen)});
  check_op([](const Inputs& in) { return tg::transpose(in[0], 0, 1).sort(-1).values; }, {randn64({4, 3}, gen)});
  check_value([](const Inputs& in) { return tg::sort(in[0], 1).indices; }, {ties});
  check_value([](const Inputs& in) { return tg::argsort(tg::transpose(in[0], 0, 1), 0, true); }, {ties});
  check_op([](const Inputs& in) { return tg::index_add(in[0], 1, on(tg::tensor({2, 0, 2}), in[0]), in[1], 0.5); },
           {randn64({2, 3}, gen), randn64({2, 3}, gen)});
  check_op(
      [](const Inputs& in) { return tg::transpose(in[0], 0, 1).index_add(0, on(tg::tensor({1, 1}), in[0]), in[1]); },
      {randn64({2, 3}, gen), randn64({2, 2}, gen)});
  check_op([](const Inputs& in) { return in[0].repeat({2, 1, 3}); }, {randn64({2, 2}, gen)});
  check_op([](const Inputs& in) { return tg::transpose(in[0], 0, 1).repeat({2, 2}); }, {randn64({3, 2}, gen)});
  check_value([](const Inputs& in) { return tg::unique(in[0], {.return_counts = true}).counts; }, {ties});
  check_value([](const Inputs& in) { return tg::nonzero(tg::transpose(in[0], 0, 1)); }, {ties});
}
