// tg::Profiler: calls, self time, allocations per op; scopes, threads, table.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <thread>

#include "tapegrad_kernels.h"

using namespace tg;

namespace {

std::map<std::string, ProfileRow> rows_by_name(const Profiler& profiler) {
  std::map<std::string, ProfileRow> rows;
  for (const ProfileRow& row : profiler.report()) rows[row.op] = row;
  return rows;
}

double self_seconds_sum(const Profiler& profiler) {
  double total = 0;
  for (const ProfileRow& row : profiler.report()) total += row.total_seconds();
  return total;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

TEST_CASE("counts forward and backward calls per op") {
  Tape tape;
  TapeScope use(tape);
  const Tensor x = randn({4, 4});
  const Tensor w = randn({4, 4}).requires_grad_();
  Profiler profiler;
  const Tensor h1 = matmul(x, w), h2 = matmul(h1, w), h3 = matmul(h2, w);
  const Tensor loss = sum(h3 + h1 + h2);  // sum(x) runs sum(x, axes): one call
  loss.backward();
  profiler.stop();

  const auto rows = rows_by_name(profiler);
  REQUIRE(rows.size() == 3);
  CHECK(rows.at("matmul").forward_calls == 3);
  CHECK(rows.at("matmul").backward_calls == 3);
  CHECK(rows.at("add").forward_calls == 2);
  CHECK(rows.at("add").backward_calls == 2);
  CHECK(rows.at("sum").forward_calls == 1);
  CHECK(rows.at("sum").backward_calls == 1);
  for (const auto& [name, row] : rows) {
    CHECK(row.forward_seconds >= 0);
    CHECK(row.backward_seconds >= 0);
  }
  CHECK(self_seconds_sum(profiler) <= profiler.wall_seconds());
}

TEST_CASE("an op that calls itself counts once; the ops it builds on get rows of their own") {
  const Tensor a = randn({2, 3, 4}), b = randn({4, 5});
  Profiler profiler;
  matmul(a, b);  // reshapes to (6, 4) @ (4, 5), a nested matmul, then reshapes back
  const auto rows = rows_by_name(profiler);
  CHECK(rows.at("matmul").forward_calls == 1);
  CHECK(rows.at("reshape").forward_calls == 2);
  CHECK(rows.size() == 2);
}

TEST_CASE("bytes allocated are the outputs' sizes, charged to the op that allocates them") {
  const Tensor x = randn({3, 5}), y = randn({3, 5});
  const Tensor a = randn({2, 3}, {DType::f64}), b = randn({3, 4}, {DType::f64});
  Profiler profiler;
  const Tensor sum_xy = x + y;             // (3, 5) float32: 60 bytes
  const Tensor t = tanh(sum_xy);           // 60 bytes
  const Tensor c = matmul(a, b);           // (2, 4) float64: 64 bytes
  const Tensor view = transpose(c, 0, 1);  // a view: nothing
  const Tensor fresh = zeros({7});         // not an op: outside ops, 28 bytes
  const auto rows = rows_by_name(profiler);
  CHECK(rows.at("add").forward_bytes == 60);
  CHECK(rows.at("tanh").forward_bytes == 60);
  CHECK(rows.at("matmul").forward_bytes == 64);
  CHECK(rows.at("transpose").forward_bytes == 0);
  CHECK(rows.at("permute").forward_bytes == 0);
  CHECK(profiler.bytes_outside_ops() == 28);
  for (const auto& [name, row] : rows) CHECK(row.backward_bytes == 0);
}

TEST_CASE("backward allocations go to the op's backward") {
  Tape tape;
  TapeScope use(tape);
  const Tensor w = randn({3, 5}).requires_grad_();
  Profiler profiler;
  const Tensor loss = sum(tanh(w));
  loss.backward();
  const auto rows = rows_by_name(profiler);
  // tanh's backward creates w's gradient (3, 5) float32 at least.
  CHECK(rows.at("tanh").backward_bytes >= 60);
  CHECK(rows.at("tanh").forward_bytes == 60);
}

TEST_CASE("a backward's fresh gradients are adopted by empty slots, not copied: gru_gates allocates each once") {
  Tape tape;
  TapeScope use(tape);
  const int64_t batch = 8, hidden = 16;
  const Tensor gi = randn({batch, 3 * hidden}).requires_grad_(), gh = randn({batch, 3 * hidden}).requires_grad_();
  const Tensor h = randn({batch, hidden}).requires_grad_();
  Profiler profiler;
  const Tensor loss = sum(gru_gates(gi, gh, h));
  loss.backward();
  // dgi, dgh (B, 3H) and dh (B, H), float32; a copy of each into the empty slots would double it.
  CHECK(rows_by_name(profiler).at("gru_gates").backward_bytes == size_t(4 * (2 * batch * 3 * hidden + batch * hidden)));
}

TEST_CASE("nested scopes give self time: a parent is not charged for its children") {
  // Inclusive accounting would give outer ≥ 50 ms and inner ≥ 30 ms, more than
  // the wall time; self time gives outer ≥ 20 ms, and the two add up to at
  // most the wall time.
  Profiler profiler;
  {
    const ProfileScope outer("outer");
    sleep_ms(20);
    {
      const ProfileScope inner("inner");
      sleep_ms(30);
    }
  }
  const auto rows = rows_by_name(profiler);
  CHECK(rows.at("outer").forward_seconds >= 0.020);
  CHECK(rows.at("inner").forward_seconds >= 0.030);
  CHECK(rows.at("outer").forward_calls == 1);
  CHECK(rows.at("inner").forward_calls == 1);
  CHECK(self_seconds_sum(profiler) <= profiler.wall_seconds());
}

TEST_CASE("a composed op's rows add up to at most the wall time") {
  Tape tape;
  TapeScope use(tape);
  const Tensor a = randn({64, 64}).requires_grad_(), b = randn({64, 64});
  Profiler profiler;
  mse_loss(a, b).backward();  // mse_loss = mean((a - b) * (a - b)): sub, mul, mean, sum inside
  const auto rows = rows_by_name(profiler);
  for (const char* name : {"mse_loss", "sub", "mul", "mean", "sum"}) {
    REQUIRE_MESSAGE(rows.count(name) == 1, name);
    CHECK(rows.at(name).forward_calls == 1);
    CHECK(rows.at(name).forward_seconds >= 0);
  }
  CHECK(rows.at("mul").backward_calls == 1);
  CHECK(self_seconds_sum(profiler) <= profiler.wall_seconds());
}

TEST_CASE("ops inside a backward function are charged to that backward") {
  Tape tape;
  TapeScope use(tape);
  const Tensor x = randn({4}).requires_grad_();
  Profiler profiler;
  Tensor y = compute::unary(UnaryOp::neg, x);  // a user's op: y = -x, dx += -dy, computed with ops
  record("user_neg", {&x}, y, [x](const Tensor& dy) {
    const ProfileScope profile("user_neg_inner");  // an op called from a backward function
    accumulate_grad(x, neg(dy));
  });
  sum(y).backward();
  const auto rows = rows_by_name(profiler);
  CHECK(rows.at("user_neg").backward_calls == 1);
  CHECK(rows.count("neg") == 0);
  CHECK(rows.count("user_neg_inner") == 0);
}

TEST_CASE("nothing is counted without an active profiler on the thread") {
  const Tensor x = randn({8, 8});
  Profiler profiler;
  add(x, x);
  profiler.pause();
  add(x, x);  // paused
  profiler.resume();
  std::thread other([&] { matmul(x, x); });  // another thread: not profiled
  other.join();
  add(x, x);
  profiler.stop();
  add(x, x);  // stopped
  profiler.resume();  // no effect after stop
  add(x, x);
  const auto rows = rows_by_name(profiler);
  CHECK(rows.at("add").forward_calls == 2);
  CHECK(rows.count("matmul") == 0);
  CHECK_FALSE(profiler.active());
}

TEST_CASE("sequential profilers are independent; a nested one takes over and hands back") {
  const Tensor x = randn({8});
  {
    Profiler first;
    tanh(x);
    tanh(x);
    CHECK(rows_by_name(first).at("tanh").forward_calls == 2);
  }
  Profiler second;
  tanh(x);
  {
    Profiler inner;
    exp(x);
    CHECK(rows_by_name(inner).count("tanh") == 0);
    CHECK(rows_by_name(inner).at("exp").forward_calls == 1);
  }
  exp(x);
  const auto rows = rows_by_name(second);
  CHECK(rows.at("tanh").forward_calls == 1);
  CHECK(rows.at("exp").forward_calls == 1);  // the one after the inner profiler ended
}

TEST_CASE("an op that throws still closes its frame") {
  const Tensor a = randn({3, 4}), b = randn({5, 6});
  Profiler profiler;
  CHECK_THROWS_AS(matmul(a, b), Error);
  {
    const ProfileScope outer("outer");
    sleep_ms(5);
  }
  const auto rows = rows_by_name(profiler);
  CHECK(rows.at("matmul").forward_calls == 1);
  CHECK(rows.at("outer").forward_calls == 1);
  CHECK(rows.at("outer").forward_seconds >= 0.005);
}

TEST_CASE("the table lists the ops by total time, largest first, with totals") {
  Profiler profiler;
  {
    const ProfileScope fast("fast_op");
    sleep_ms(1);
  }
  {
    const ProfileScope slow("slow_op");
    sleep_ms(30);
  }
  const std::vector<ProfileRow> rows = profiler.report();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].op == "slow_op");
  CHECK(rows[1].op == "fast_op");

  const std::string table = profiler.format_table();
  const size_t slow = table.find("slow_op"), fast = table.find("fast_op");
  REQUIRE(slow != std::string::npos);
  REQUIRE(fast != std::string::npos);
  CHECK(slow < fast);
  CHECK(table.find("all ops") != std::string::npos);
  CHECK(table.find("outside ops") != std::string::npos);
  CHECK(table.find("fwd calls") != std::string::npos);

  const std::string first_only = profiler.format_table(1);
  CHECK(first_only.find("slow_op") != std::string::npos);
  CHECK(first_only.find("fast_op") == std::string::npos);
  CHECK(first_only.find("(1 more ops)") != std::string::npos);
}
