// The fused ops against the same maths in general ops, at the translation
// models' sizes: forward + backward time and what the tape keeps between them.
// Now that a node saves only what its derivative reads, a fused op earns its
// place by speed, by memory, or both; this measures which (docs/design.md).
//
//   additive_score(keys, query, v)       vs  matmul(tanh(keys + query), v)
//   cross_entropy (log_softmax_nll node) vs  log_softmax, then index_select of each row's target
//   linear(x, w, b)                      vs  matmul(x, wᵀ) + b
//
// Output, one line per pair and variant (median of --reps forward+backward runs):
//   fused_vs_composed op=additive_score variant=fused ms=.. saved_mb=..
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tapegrad.h"

namespace {

using tg::Shape;
using tg::Tensor;

struct Options {
  int threads = 2;
  int reps = 9;
  int64_t batch = 64, source = 30, target = 30, attention = 512, hidden = 512, features = 768, vocab = 5921;
};

// MB the live nodes saved beyond the leaves (each storage once).
double saved_mb(const tg::Tape& tape) {
  std::set<const void*> seen;
  size_t bytes = 0;
  for (const tg::Node& node : tape.nodes())
    if (node.live)
      for (const tg::Saved& value : node.saved)
        if (!value.is_leaf() && seen.insert(value.storage_id()).second) bytes += value.bytes();
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// Median milliseconds of forward + backward of `loss_of`, and what the tape
// kept after the forward.
void measure(const std::string& op, const std::string& variant, const Options& o,
             const std::function<Tensor()>& loss_of) {
  std::vector<double> ms;
  double kept = 0;
  for (int r = 0; r < o.reps + 1; ++r) {
    tg::Tape tape;
    tg::TapeScope scope(tape);
    const auto start = std::chrono::steady_clock::now();
    const Tensor loss = loss_of();
    kept = saved_mb(tape);
    loss.backward();
    const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (r > 0) ms.push_back(elapsed);  // the first warms the allocator and the thread pool
  }
  std::sort(ms.begin(), ms.end());
  fmt::print("fused_vs_composed op={} variant={} threads={} ms={:.3f} saved_mb={:.1f}\n", op, variant, o.threads,
             ms[ms.size() / 2], kept);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"fused ops against their composed twins: time and saved memory"};
  app.add_option("--threads", o.threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--reps", o.reps, "timed repetitions (median reported)")->check(CLI::PositiveNumber)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  tg::set_num_threads(o.threads);
  tg::Generator gen(1);
  const tg::TensorOptions trainable{.requires_grad = true};

  // Bahdanau's attention at one decoder step: keys (B, S, A), query (B, A), v (A).
  const Tensor keys = tg::randn({o.batch, o.source, o.attention}, trainable, gen);
  const Tensor query = tg::randn({o.batch, o.attention}, trainable, gen);
  const Tensor v = tg::randn({o.attention}, trainable, gen);
  measure("additive_score", "fused", o, [&] { return tg::sum(tg::additive_score(keys, query, v)); });
  measure("additive_score", "composed", o, [&] {
    const Tensor t = tg::tanh(keys + tg::reshape(query, {o.batch, 1, o.attention}));  // (B, S, A)
    return tg::sum(tg::matmul(t, tg::reshape(v, {o.attention, 1})));                // (B, S, 1)
  });

  // The output layer's loss: logits (T·B, V), targets (T·B).
  const int64_t rows = o.target * o.batch;
  const Tensor logits = tg::randn({rows, o.vocab}, trainable, gen);
  std::vector<int64_t> target_values(rows), picked_positions(rows);
  for (int64_t i = 0; i < rows; ++i) {
    target_values[i] = (i * 7919) % o.vocab;
    picked_positions[i] = i * o.vocab + target_values[i];  // row i's target in the flat (T·B·V) logp
  }
  const Tensor target = tg::index_tensor(target_values, {rows});
  const Tensor picked = tg::index_tensor(picked_positions, {rows});
  measure("cross_entropy", "fused", o, [&] { return tg::cross_entropy(logits, target); });
  measure("cross_entropy", "composed", o, [&] {
    const Tensor logp = tg::log_softmax(logits, -1);
    return tg::mean(tg::index_select(tg::reshape(logp, {-1}), 0, picked)) * -1.0;
  });

  // The output projection: x (T·B, F) @ wᵀ + b (V), w (V, F).
  const Tensor x = tg::randn({rows, o.features}, trainable, gen);
  const Tensor w = tg::randn({o.vocab, o.features}, trainable, gen);
  const Tensor b = tg::randn({o.vocab}, trainable, gen);
  measure("linear", "fused", o, [&] { return tg::sum(tg::linear(x, w, b)); });
  measure("linear", "composed", o, [&] { return tg::sum(tg::matmul(x, tg::transpose(w, 0, 1)) + b); });
  return 0;
}
