// What the tape keeps: each op saves exactly what its derivative reads, a graph
// nobody can reach is freed at once, and a saved value changed in place makes
// backward fail instead of giving a wrong gradient.
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tapegrad_kernels.h"
#include "test_support.h"

using namespace tg;

namespace {

size_t in_use() { return host_memory_stats().in_use_bytes; }

// Fewer iterations under the sanitizers (scripts/test.sh --sanitize sets it).
int iterations(int full) { return test_support::sanitized_run() ? full / 10 : full; }

// The names of the values the live nodes saved, in recording order.
std::vector<std::string> saved_names(const Tape& tape) {
  std::vector<std::string> names;
  for (const Node& node : tape.nodes())
    if (node.live)
      for (const Saved& value : node.saved) names.emplace_back(value.name());
  return names;
}

// Host bytes (size classes) of the storages the live nodes saved, other than
// those in `inputs`: what the graph itself keeps alive.
size_t saved_host_bytes(const Tape& tape, const std::vector<Tensor>& inputs) {
  std::set<const void*> counted;
  for (const Tensor& t : inputs) counted.insert(t.impl().storage.get());
  size_t bytes = 0;
  for (const Node& node : tape.nodes())
    if (node.live)
      for (const Saved& value : node.saved)
        if (counted.insert(value.storage_id()).second) bytes += host_size_class(value.bytes());
  return bytes;
}

struct Inputs {
  Tensor x, y, w, b, positive, index, target, mask, gates, h, keys, query, v;
};

Inputs make_inputs() {
  Generator gen(7);
  const TensorOptions leaf{.dtype = DType::f64, .requires_grad = true};
  Inputs in;
  in.x = randn({4, 8}, leaf, gen);
  in.y = randn({4, 8}, leaf, gen);
  in.w = randn({8, 8}, leaf, gen);
  in.b = randn({8}, leaf, gen);
  in.positive = add(abs(randn({4, 8}, {.dtype = DType::f64}, gen)), 0.5).detach().requires_grad_();
  in.index = index_tensor({3, 0, 2, 3}, {4});
  in.target = index_tensor({1, 7, 0, 5}, {4});
  in.mask = gt(randn({4, 8}, {.dtype = DType::f64}, gen), 0.0);
  in.gates = randn({4, 24}, leaf, gen);
  in.h = randn({4, 8}, leaf, gen);
  in.keys = randn({4, 5, 8}, leaf, gen);
  in.query = randn({4, 8}, leaf, gen);
  in.v = randn({8}, leaf, gen);
  return in;
}

struct SavedCase {
  const char* name;
  std::function<Tensor(const Inputs&)> f;
  std::vector<std::string> saved;  // what every node f records saves, in order
  bool all_inputs_trainable = true;  // false where f detaches one (gradcheck would see its gradient missing)
};

// One row per op: what its derivative reads, and so what it must save.
const std::vector<SavedCase>& saved_cases() {
  static const std::vector<SavedCase> cases = {
      {"add", [](const Inputs& in) { return in.x + in.y; }, {}},
      {"sub", [](const Inputs& in) { return in.x - in.y; }, {}},
      {"mul", [](const Inputs& in) { return in.x * in.y; }, {"a", "b"}},
      {"mul, one side trainable", [](const Inputs& in) { return in.x.detach() * in.y; }, {"a"}, false},
      {"div", [](const Inputs& in) { return in.x / in.positive; }, {"b", "y"}},
      {"div, numerator trainable", [](const Inputs& in) { return in.x / in.positive.detach(); }, {"b"}, false},
      {"rdiv_scalar", [](const Inputs& in) { return 2.0 / in.positive; }, {"x", "y"}},
      {"add_scalar", [](const Inputs& in) { return in.x + 1.0; }, {}},
      {"mul_scalar", [](const Inputs& in) { return in.x * 3.0; }, {}},
      {"neg", [](const Inputs& in) { return neg(in.x); }, {}},
      {"exp", [](const Inputs& in) { return exp(in.x); }, {"y"}},
      {"log", [](const Inputs& in) { return log(in.positive); }, {"x"}},
      {"sqrt", [](const Inputs& in) { return sqrt(in.positive); }, {"y"}},
      {"tanh", [](const Inputs& in) { return tanh(in.x); }, {"y"}},
      {"sigmoid", [](const Inputs& in) { return sigmoid(in.x); }, {"y"}},
      {"relu", [](const Inputs& in) { return relu(in.x); }, {"x"}},
      {"abs", [](const Inputs& in) { return abs(in.x); }, {"x"}},
      {"erf", [](const Inputs& in) { return erf(in.x); }, {"x"}},
      {"pow", [](const Inputs& in) { return pow(in.positive, 1.5); }, {"x"}},
      {"log1p", [](const Inputs& in) { return log1p(in.positive); }, {"x"}},
      {"softplus", [](const Inputs& in) { return softplus(in.x); }, {"bx", "linear"}},
      {"gelu", [](const Inputs& in) { return gelu(in.x); }, {"x", "cdf"}},
      {"gelu tanh", [](const Inputs& in) { return gelu(in.x, GeluApproximation::tanh); }, {"x", "x2", "t"}},
      {"clamp", [](const Inputs& in) { return clamp(in.x, -0.5, 0.5); }, {"x"}},
      {"matmul", [](const Inputs& in) { return matmul(in.x, in.w); }, {"a", "b"}},
      {"matmul, weight trainable", [](const Inputs& in) { return matmul(in.x.detach(), in.w); }, {"a"}, false},
      {"matmul, batched", [](const Inputs& in) { return matmul(in.keys, transpose(in.keys, 1, 2)); }, {"a", "b"}},
      {"linear", [](const Inputs& in) { return linear(in.x, in.w, in.b); }, {"x", "w"}},
      {"linear, input only", [](const Inputs& in) { return linear(in.x, in.w.detach(), in.b.detach()); }, {"w"}, false},
      {"softmax", [](const Inputs& in) { return softmax(in.x, -1); }, {"y"}},
      {"softmax, axis 0", [](const Inputs& in) { return softmax(in.x, 0); }, {"y"}},
      {"log_softmax", [](const Inputs& in) { return log_softmax(in.x, -1); }, {"y"}},
      {"cross_entropy", [](const Inputs& in) { return cross_entropy(in.x, in.target); }, {"logp", "target"}},
      {"mse_loss", [](const Inputs& in) { return mse_loss(in.x, in.y); }, {"a", "b"}},
      {"sum over an axis", [](const Inputs& in) { return sum(in.x, {0}); }, {}},
      {"mean", [](const Inputs& in) { return mean(in.x); }, {}},
      {"reshape", [](const Inputs& in) { return reshape(in.x, {8, 4}); }, {}},
      {"transpose", [](const Inputs& in) { return transpose(in.x, 0, 1); }, {}},
      {"slice", [](const Inputs& in) { return slice(in.x, 1, 2, 6); }, {}},
      {"select", [](const Inputs& in) { return select(in.x, 0, 1); }, {}},
      {"expand", [](const Inputs& in) { return expand(in.b, {4, 8}); }, {}},
      {"concat", [](const Inputs& in) { return concat({in.x, in.y}, 1); }, {}},
      {"stack", [](const Inputs& in) { return stack({in.x, in.y}, 0); }, {}},
      {"index_select", [](const Inputs& in) { return index_select(in.x, 0, in.index); }, {"index"}},
      {"index_select, axis 1", [](const Inputs& in) { return index_select(in.x, 1, in.index); }, {"index"}},
      {"embedding", [](const Inputs& in) { return embedding(in.w, in.index); }, {"index"}},
      {"masked_fill", [](const Inputs& in) { return masked_fill(in.x, in.mask, 0.0); }, {"mask"}},
      {"where", [](const Inputs& in) { return where(in.mask, in.x, in.y); }, {"cond"}},
      {"max", [](const Inputs& in) { return max(in.x, 1).values; }, {"indices"}},
      {"min", [](const Inputs& in) { return min(in.x, 1).values; }, {"indices"}},
      {"dropout", [](const Inputs& in) { return dropout(in.x, 0.5, true); }, {}},  // the mask is drawn again
      {"gru_gates", [](const Inputs& in) { return gru_gates(in.gates, in.gates * 0.5, in.h); }, {"gates", "h"}},
      {"additive_score", [](const Inputs& in) { return additive_score(in.keys, in.query, in.v); },
       {"keys", "query", "v"}},
  };
  return cases;
}

}  // namespace

TEST_CASE("each op saves what its derivative reads, and dropping the handles frees the rest") {
  for (const SavedCase& c : saved_cases()) {
    const std::string name = c.name;
    CAPTURE(name);
    const Inputs in = make_inputs();
    const std::vector<Tensor> inputs = {in.x, in.y, in.w, in.b, in.positive, in.index, in.target, in.mask,
                                        in.gates, in.h, in.keys, in.query, in.v};
    Tape tape;
    TapeScope scope(tape);
    const size_t before = in_use();
    Tensor loss;
    {
      const Tensor y = c.f(in);
      loss = sum(y);  // sum saves nothing: what stays is the op's
    }
    // The nodes list what the case says (then "sum" with nothing).
    CHECK(saved_names(tape) == c.saved);
    // Every intermediate backward does not read is gone: the memory in use
    // is the saved values and the loss itself.
    CHECK(in_use() - before == saved_host_bytes(tape, inputs) + host_size_class(loss.impl().storage->nbytes()));
    loss.backward();
    CHECK(tape.live_nodes() == 0);
  }
}

TEST_CASE("a gradient computed with the saved values equals the one of the inputs themselves") {
  // The values each case saves are enough to back-propagate: float64 gradcheck.
  for (const SavedCase& c : saved_cases()) {
    // dropout draws a fresh mask per call (its gradient is checked in ops_math).
    if (!c.all_inputs_trainable || std::string(c.name) == "dropout") continue;
    const std::string name = c.name;
    CAPTURE(name);
    const Inputs in = make_inputs();
    const std::vector<Tensor> leaves = {in.x, in.y, in.w, in.b, in.positive, in.gates, in.h, in.keys, in.query, in.v};
    const GradcheckResult result = gradcheck(
        [&](const std::vector<Tensor>&) { return c.f(in); }, leaves, {.atol = 1e-5, .rtol = 1e-3});
    CHECK_MESSAGE(result.ok, result.message);
  }
}

namespace {
// f(x, w) = Σ op(x @ w), a metric computed again and again and never
// back-propagated.
void check_no_growth(const std::string& name, const std::function<Tensor(const Tensor&, const Tensor&)>& metric) {
  CAPTURE(name);
  Generator gen(3);
  const Tensor w = randn({16, 16}, {}, gen).requires_grad_();
  const Tensor x = randn({8, 16}, {}, gen);
  Tape tape;
  TapeScope scope(tape);
  (void)metric(x, w);  // the first call may allocate lasting things (a constant's cache)
  const size_t baseline = in_use();
  const int n = iterations(20000);
  size_t most_nodes = 0, most_bytes = 0;
  for (int i = 1; i <= n; ++i) {
    const Tensor s = metric(x, w);
    REQUIRE(s.requires_grad());  // recorded: the graph was on the tape until s went
    most_nodes = std::max(most_nodes, tape.live_nodes());
    most_bytes = std::max(most_bytes, in_use());
  }
  CHECK(tape.live_nodes() == 0);
  CHECK(tape.size() == 0);
  CHECK(most_nodes <= 12);  // one metric's graph at a time
  CHECK(in_use() == baseline);
  CHECK(most_bytes - baseline < 64 * 1024);  // one metric's tensors at a time
}
}  // namespace

TEST_CASE("a metric recorded in a loop and dropped never grows the tape or the memory") {
  // The loop, and the same with other ops in place of tanh.
  check_no_growth("tanh", [](const Tensor& x, const Tensor& w) { return sum(tanh(matmul(x, w))); });
  check_no_growth("h + 1", [](const Tensor& x, const Tensor& w) { return sum(matmul(x, w) + 1.0); });
  check_no_growth("exp", [](const Tensor& x, const Tensor& w) { return sum(exp(matmul(x, w))); });
  check_no_growth("sigmoid", [](const Tensor& x, const Tensor& w) { return sum(sigmoid(matmul(x, w))); });
  check_no_growth("softmax", [](const Tensor& x, const Tensor& w) { return sum(softmax(matmul(x, w), -1)); });
  check_no_growth("div", [](const Tensor& x, const Tensor& w) {
    return sum(matmul(x, w) / (exp(select(w, 0, 0)) + 1.0));
  });
  check_no_growth("add", [](const Tensor& x, const Tensor& w) { return sum(matmul(x, w) + x); });
  check_no_growth("matmul", [](const Tensor& x, const Tensor& w) { return sum(matmul(x, w)); });
  const Tensor index = index_tensor({5, 0, 7, 7, 2}, {5});
  check_no_growth("index_select", [&](const Tensor& x, const Tensor& w) {
    return sum(index_select(matmul(x, w), 0, index));
  });
  const Tensor target = index_tensor({0, 3, 15, 2, 9, 9, 1, 4}, {8});
  check_no_growth("cross entropy", [&](const Tensor& x, const Tensor& w) {
    return cross_entropy(matmul(x, w), target);
  });
  Generator gen(11);
  const nn::GRUCell cell(16, 16, gen);
  const Tensor h0 = randn({8, 16}, {}, gen);
  check_no_growth("a GRU step", [&](const Tensor& x, const Tensor& w) { return sum(cell.forward(matmul(x, w), h0)); });
}

namespace {
// The message backward fails with, or "" when it does not.
std::string backward_error(const Tensor& loss) {
  try {
    loss.backward();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("a saved value changed in place makes backward fail, naming the op and the value") {
  Tape tape;
  TapeScope scope(tape);
  SUBCASE("a multiplication's operand") {
    // The case: without the check w.grad() would be 4, not 2.
    const Tensor w = scalar(1.0, {.dtype = DType::f64, .requires_grad = true});
    const Tensor loss = sum(w * w);
    compute::add_into(w, scalar(1.0, {.dtype = DType::f64}));
    const std::string error = backward_error(loss);
    CHECK(contains(error, "mul backward: the saved value a () float64 (leaf) was changed in place"));
    CHECK_FALSE(w.grad().defined());
  }
  SUBCASE("a tanh's output") {
    const Tensor x = randn({3, 4}, {.requires_grad = true});
    const Tensor y = tanh(x);
    const Tensor loss = sum(y);
    compute::fill(y, 0.5);
    CHECK(contains(backward_error(loss), "tanh backward: the saved value y (3, 4) float32 was changed in place"));
  }
  SUBCASE("a view of a saved tensor") {
    const Tensor x = randn({3, 4});  // saved by the product, needs no gradient itself
    const Tensor w = randn({4, 2}, {.requires_grad = true});
    const Tensor loss = sum(matmul(x, w));
    compute::fill(slice(x, 0, 1, 2), 7.0);  // one row, through a view sharing x's memory
    CHECK(contains(backward_error(loss), "matmul backward: the saved value a (3, 4) float32 was changed in place"));
  }
  SUBCASE("an optimizer step between the forward and backward") {
    const Tensor x = randn({2, 4});
    Tensor w = randn({4, 3}, {.requires_grad = true});
    const Tensor h = randn({3, 4}, {.requires_grad = true});
    const Tensor loss = sum(matmul(matmul(x, w), h));  // the second product saved x @ w and h
    w.set_grad(ones({4, 3}));
    h.set_grad(ones({3, 4}));
    optim::SGD sgd({h}, {.lr = 0.1});
    sgd.step();
    CHECK(contains(backward_error(loss), "matmul backward: the saved value b (3, 4) float32 (leaf) was changed in place"));
  }
}

TEST_CASE("a saved value changed inside conv1d, layer_norm or a GRU names that op and its input") {
  Tape tape;
  TapeScope scope(tape);
  SUBCASE("conv1d's weight") {
    const Tensor x = randn({1, 3, 8}, {.requires_grad = true});
    const Tensor w = randn({6, 3, 1}, {.requires_grad = true});
    const Tensor loss = sum(conv1d(x, w, Tensor(), 1, 0, 1, 1));
    w.copy_(zeros({6, 3, 1}));
    CHECK(contains(backward_error(loss), "conv1d backward (its linear): the saved value weight (6, 3, 1) float32 was "
                                         "changed in place"));
  }
  SUBCASE("layer_norm's weight") {
    const Tensor x = randn({2, 4}, {.requires_grad = true});
    const Tensor w = ones({4}, {.requires_grad = true});
    const Tensor loss = sum(mul(layer_norm(x, {4}, w, Tensor(), 1e-5), x));
    w.copy_(zeros({4}));
    CHECK(contains(backward_error(loss), "layer_norm backward: the saved value weight (4,) float32"));
  }
  SUBCASE("a GRU's weight, by its parameter name") {
    nn::GRU gru(3, 4);
    const Tensor x = randn({5, 2, 3}, {.requires_grad = true});
    const Tensor loss = sum(gru(x).output);
    const Tensor weight_hh = gru.named_parameters()[1].second;
    REQUIRE(gru.named_parameters()[1].first == "weight_hh_l0");
    weight_hh.copy_(zeros(weight_hh.shape()));
    CHECK(contains(backward_error(loss), "GRU backward (its matmul): the saved value weight_hh_l0 (12, 4) float32"));
  }
  SUBCASE("a linear's operand, as before: linear is the op called") {
    const Tensor x = randn({2, 3}, {.requires_grad = true});
    const Tensor w = randn({4, 3}, {.requires_grad = true});
    const Tensor loss = sum(linear(x, w, zeros({4})));
    w.copy_(zeros({4, 3}));
    CHECK(contains(backward_error(loss), "linear backward: the saved value w (4, 3) float32 (leaf)"));
  }
}

TEST_CASE("an in-place change to a value no node saved still back-propagates") {
  Tape tape;
  TapeScope scope(tape);
  const Tensor x = ones({2, 3});
  const Tensor w = ones({2, 3}, {.requires_grad = true});
  const Tensor loss = sum(x + w);  // add saves nothing
  compute::add_into(x, ones({2, 3}));
  loss.backward();
  CHECK(w.grad().to_vector<float>() == std::vector<float>(6, 1.0f));
  // And a change after backward is the user's business: nothing is saved any more.
  const Tensor y = tanh(w);
  const Tensor l2 = sum(y);
  l2.backward();
  compute::fill(y, 0.0);
  CHECK(w.grad().defined());
}
