// A row's result does not depend on how many rows come with it: every op a
// decoding step runs, in float32, gives row i the same bits in a batch of m
// rows as in a batch of M > m (the first m rows of the same inputs). Batched
// search against one sentence at a time and the lazy search against the eager
// one (translate_models) rest on it; this program checks it op by op, at the
// row counts a search passes through, on 1, 2 and 3 threads (a kernel splits
// over threads by its size, so by its rows: the split must not change a
// row's bits), so that where it fails (a processor, a build) the op is named.
// The products hold it on the own float32 kernel only: OpenBLAS rounds a row
// by the product's row count (docs/testing.md).
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "backends/cpu/cpu_gemm.h"
#include "tapegrad.h"

namespace {

using tg::Tensor;

// Rows [0, m) of x along axis 0, as a tensor of its own (a contiguous copy, its own storage).
Tensor first_rows(const Tensor& x, int64_t m) { return tg::slice(x, 0, 0, m).clone(); }

// The first differing element of rows [0, m) of `small` against `big`, or -1.
int64_t first_difference(const Tensor& small, const Tensor& big, int64_t m) {
  const std::vector<float> a = small.contiguous().to_vector<float>();
  const std::vector<float> b = first_rows(big, m).to_vector<float>();
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return static_cast<int64_t>(i);
  return -1;
}

// op(inputs) where each input's axis 0 is the rows; checks every m of `rows` against the largest.
void check_rows(const std::string& name, const std::vector<Tensor>& inputs,
                const std::function<Tensor(const std::vector<Tensor>&)>& op) {
  tg::NoGrad no_grad;
  const Tensor all = op(inputs);
  const int64_t rows = inputs.front().size(0);
  for (int64_t m : {1, 2, 3, 7, 8, 15, 16, 17, 24, 31, 33, 40, 63}) {
    if (m >= rows) continue;
    std::vector<Tensor> part;
    for (const Tensor& x : inputs) part.push_back(first_rows(x, m));
    const int64_t at = first_difference(op(part), all, m);
    CAPTURE(name);
    CAPTURE(m);
    CAPTURE(rows);
    CAPTURE(at);
    CHECK(at == -1);
  }
}

}  // namespace

TEST_CASE("each op of a decoding step gives a row the same bits whatever the batch's row count") {
  for (int threads : {1, 2, 3}) {  // whether a kernel splits over threads depends on its size, so on the rows
    CAPTURE(threads);
    tg::set_num_threads(threads);
    tg::Generator gen(17);
    const int64_t M = 64, S = 13, H = 96, A = 80, V = 333, E = 48;
    auto randn = [&](tg::Shape shape) { return tg::randn(shape, {}, gen); };
    const Tensor h = randn({M, H}), gi = randn({M, 3 * H}), gh = randn({M, 3 * H});
    const Tensor keys = randn({M, S, A}), query = randn({M, A}), v = randn({A});
    const Tensor scores = randn({M, S}), values = randn({M, S, H});
    std::vector<int64_t> lengths(M), ids(M);
    for (int64_t i = 0; i < M; ++i) lengths[i] = 1 + (i * 7) % S, ids[i] = (i * 11) % 60;
    const Tensor mask = tg::sequence_mask(tg::index_tensor(lengths), S);  // (M, S), true = valid
    const Tensor tokens = tg::index_tensor(ids);
    const Tensor table = randn({60, E});

    // Elementwise and row-wise ops: independent of the row count on every path.
    check_rows("gru_gates", {gi, gh, h}, [](const auto& x) { return tg::gru_gates(x[0], x[1], x[2]); });
    check_rows("additive_score", {keys, query},
               [&](const auto& x) { return tg::additive_score(x[0], x[1], v); });
    check_rows("masked softmax", {scores, mask}, [](const auto& x) {
      return tg::softmax(tg::masked_fill(x[0], tg::logical_not(x[1]), -1e30), -1);
    });
    check_rows("log_softmax", {randn({M, V})}, [](const auto& x) { return tg::log_softmax(x[0], -1); });
    check_rows("tanh, sigmoid, exp", {h}, [](const auto& x) { return tg::tanh(x[0]) + tg::sigmoid(x[0]) * tg::exp(x[0]); });
    check_rows("embedding", {tokens}, [&](const auto& x) { return tg::embedding(table, x[0]); });
    check_rows("concat", {h, query}, [](const auto& x) { return tg::concat({x[0], x[1]}, 1); });
    check_rows("topk values", {randn({M, V})}, [](const auto& x) { return tg::topk(x[0], 5, 1).values; });

    // Products: the own float32 kernel sums each element alike whatever the row count.
    if (!tg::cpu::use_own_sgemm()) {
      if (threads == 1)
        MESSAGE("float32 products on OpenBLAS here: their rows depend on the row count by its design; not checked");
      continue;
    }
    for (int64_t k : {32, 96, 300, 1100}) {
      const Tensor x = randn({M, k}), w = randn({V, k}), b = randn({V});
      check_rows("linear, k " + std::to_string(k), {x}, [&](const auto& in) { return tg::linear(in[0], w, b); });
      check_rows("matmul, k " + std::to_string(k), {x}, [&](const auto& in) {
        return tg::matmul(in[0], tg::transpose(w, 0, 1));
      });
    }
    for (int64_t k : {32, 300}) {  // B's rows in place: one row reads B unpacked (row_times_matrix)
      const Tensor x = randn({M, k}), w = randn({k, V});
      check_rows("matmul, B row-major, k " + std::to_string(k), {x}, [&](const auto& in) { return tg::matmul(in[0], w); });
    }
    {  // 160 rows take the packed path, at most 103 the transposed form: with a bias, both add C first
      const Tensor x = randn({160, 300}), w = randn({V, 300}), b = randn({V});
      check_rows("linear, k 300, 160 rows", {x}, [&](const auto& in) { return tg::linear(in[0], w, b); });
    }
    const Tensor w_q = randn({A, H});
    check_rows("linear, per-row bias (B, N)", {h, randn({M, A})}, [&](const auto& in) {
      return tg::linear(in[0], w_q, in[1]);
    });
    check_rows("batched context (B, 1, S) @ (B, S, H)", {scores, values}, [](const auto& x) {
      return tg::matmul(tg::unsqueeze(tg::softmax(x[0], -1), 1), x[1]);
    });
  }
}
