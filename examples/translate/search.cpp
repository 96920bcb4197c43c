#include "search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/creation.h"
#include "core/error.h"
#include "core/tape.h"
#include "data/vocab.h"
#include "ops/compare.h"
#include "ops/index_select.h"
#include "ops/max.h"

namespace tg::translate {

namespace {

using data::Vocab;

// Evaluation mode for a scope; the model's previous mode comes back after.
class EvalScope {
 public:
  explicit EvalScope(Seq2Seq& model) : model_(model), was_training_(model.is_training()) { model_.eval(); }
  ~EvalScope() { model_.train(was_training_); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  Seq2Seq& model_;
  bool was_training_;
};

// int64 ids (tokens, row numbers) on the model's device, for ops with its tensors.
Tensor ids_on(const std::vector<int64_t>& ids, const Shape& shape, Device device) {
  return from_vector(ids, shape, {DType::i64, device});
}

// Attention rows collected on the host: `columns` values per generated token.
Tensor attention_matrix(const std::vector<float>& rows, int64_t columns) {
  const int64_t steps = columns == 0 ? 0 : static_cast<int64_t>(rows.size()) / columns;
  return from_vector(rows, Shape{steps, columns}, {DType::f32});
}

// Appends row `b` of attention (B, S), its first `columns` entries, to `rows`.
void append_row(const std::vector<float>& attention, int64_t b, int64_t source, int64_t columns,
                std::vector<float>& rows) {
  const auto begin = attention.begin() + b * source;
  rows.insert(rows.end(), begin, begin + columns);
}

// The hypothesis with the best normalized score (the first on ties); hyps not empty.
size_t best_index(const std::vector<Hypothesis>& hyps, double length_penalty) {
  size_t best = 0;
  for (size_t k = 1; k < hyps.size(); ++k)
    if (normalized_score(hyps[k], length_penalty) > normalized_score(hyps[best], length_penalty)) best = k;
  return best;
}

double best_score(const std::vector<Hypothesis>& hyps, double length_penalty) {
  return normalized_score(hyps[best_index(hyps, length_penalty)], length_penalty);
}

void check_max_len(int64_t max_len, const char* op) {
  if (max_len < 1) fail("{}: max_len must be at least 1, got {}", op, max_len);
}

}  // namespace

double normalized_score(double log_prob, int64_t length, double length_penalty) {
  if (length <= 0 || length_penalty == 0) return log_prob;
  return log_prob / std::pow(static_cast<double>(length), length_penalty);
}

std::vector<Hypothesis> greedy_decode(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                      const Tensor& src_mask, int64_t max_len, bool with_attention) {
  check_max_len(max_len, "greedy_decode");
  NoGrad no_grad;
  EvalScope eval(model);
  const Encoded encoded = model.encode(src, src_lengths, src_mask);  // checks the shapes
  const int64_t S = src.size(0), B = src.size(1);
  const std::vector<int64_t> lengths = src_lengths.to_vector<int64_t>();

  std::vector<Hypothesis> hyps(static_cast<size_t>(B));
  std::vector<std::vector<float>> rows(static_cast<size_t>(B));  // attention, row-major per sentence
  Tensor prev = full({B}, static_cast<double>(Vocab::bos_id), {DType::i64, src.device()});  // (B)
  Tensor hidden = encoded.initial_hidden;                                     // (B, H)
  int64_t open = B;
  for (int64_t t = 0; t < max_len && open > 0; ++t) {
    const Step step = model.step(encoded, prev, hidden);
    const MaxResult best = max(step.log_probs, 1);  // (B) values and argmax (first on ties)
    const std::vector<int64_t> tokens = best.indices.to_vector<int64_t>();
    const std::vector<double> log_probs = best.values.to_vector<double>();
    std::vector<float> attention;
    if (with_attention && step.attention.defined()) attention = step.attention.to_vector<float>();  // (B, S)
    for (int64_t b = 0; b < B; ++b) {
      Hypothesis& h = hyps[b];
      if (h.finished) continue;
      h.log_prob += log_probs[b];
      if (!attention.empty()) append_row(attention, b, S, lengths[b], rows[b]);
      if (tokens[b] == Vocab::eos_id) {
        h.finished = true;
        --open;
      } else {
        h.tokens.push_back(tokens[b]);
      }
    }
    prev = best.indices;
    hidden = step.hidden;
  }
  if (with_attention)
    for (int64_t b = 0; b < B; ++b)
      if (!rows[b].empty()) hyps[b].attention = attention_matrix(rows[b], lengths[b]);
  return hyps;
}

Hypothesis beam_search(Seq2Seq& model, const std::vector<int64_t>& src, int64_t beam_size, int64_t max_len,
                       double length_penalty) {
  if (src.empty()) fail("beam_search: the source sentence is empty; it needs at least one token");
  if (beam_size < 1) fail("beam_search: beam_size must be at least 1, got {}", beam_size);
  check_max_len(max_len, "beam_search");
  if (!(length_penalty >= 0)) fail("beam_search: length_penalty must be >= 0, got {}", length_penalty);
  NoGrad no_grad;
  EvalScope eval(model);

  const int64_t S = static_cast<int64_t>(src.size());
  const Device device = model.device();  // the length stays on the host, as in data::Batch
  const Encoded encoded = model.encode(ids_on(src, Shape{S, 1}, device), index_tensor({S}, Shape{1}),
                                       ne(ones({1, S}, {DType::f64, device}), 0.0));  // (S, 1), (1), (1, S)
  struct Partial {
    std::vector<int64_t> tokens;
    double log_prob = 0;
    std::vector<float> attention;  // (steps, S) row-major
  };
  std::vector<Partial> alive(1);
  std::vector<Hypothesis> finished;
  auto finish = [&](const Partial& p, bool ended) {
    Hypothesis h;
    h.tokens = p.tokens;
    h.finished = ended;
    h.log_prob = p.log_prob;
    if (!p.attention.empty()) h.attention = attention_matrix(p.attention, S);
    finished.push_back(std::move(h));
  };

  Tensor hidden = encoded.initial_hidden;  // (n, H), row i for alive[i]
  Encoded repeated = encoded;              // the encoding repeated n = alive.size() times
  for (int64_t t = 0; t < max_len; ++t) {
    const int64_t n = static_cast<int64_t>(alive.size());
    if (repeated.mask.size(0) != n) repeated = select_rows(encoded, zeros({n}, {DType::i64, device}));
    std::vector<int64_t> prev(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) prev[i] = alive[i].tokens.empty() ? Vocab::bos_id : alive[i].tokens.back();
    const Step step = model.step(repeated, ids_on(prev, Shape{n}, device), hidden);
    const std::vector<double> log_probs = step.log_probs.to_vector<double>();  // (n, V)
    std::vector<float> attention;
    if (step.attention.defined()) attention = step.attention.to_vector<float>();  // (n, S)
    const int64_t V = step.log_probs.size(1);

    // The 2K best extensions, by log_prob, then by (hypothesis, token) on ties.
    std::vector<int64_t> order(static_cast<size_t>(n * V));
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> scores(order.size());
    for (int64_t k = 0; k < n * V; ++k) scores[k] = alive[k / V].log_prob + log_probs[k];
    const int64_t candidates = std::min<int64_t>(2 * beam_size, n * V);
    std::partial_sort(order.begin(), order.begin() + candidates, order.end(), [&](int64_t a, int64_t b) {
      return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
    });

    std::vector<Partial> next;
    std::vector<int64_t> parents;
    for (int64_t r = 0; r < candidates && static_cast<int64_t>(next.size()) < beam_size; ++r) {
      const int64_t i = order[r] / V, token = order[r] % V;
      Partial p;
      p.log_prob = scores[order[r]];
      p.attention = alive[i].attention;
      if (!attention.empty()) append_row(attention, i, S, S, p.attention);
      p.tokens = alive[i].tokens;
      if (token == Vocab::eos_id) {
        if (r < beam_size) finish(p, true);  // an <eos> below the first K is not a top-K extension
        continue;
      }
      p.tokens.push_back(token);
      next.push_back(std::move(p));
      parents.push_back(i);
    }
    // Done once K have finished and none still open scores better now: for α = 0
    // exact (log_prob only falls), for α > 0 the usual heuristic.
    const bool done =
        next.empty() || (static_cast<int64_t>(finished.size()) >= beam_size &&
                         best_score(finished, length_penalty) >=
                             normalized_score(next.front().log_prob, static_cast<int64_t>(next.front().tokens.size()),
                                              length_penalty));
    alive = done ? std::vector<Partial>() : std::move(next);
    if (done) break;
    hidden = index_select(step.hidden, 0, ids_on(parents, Shape{static_cast<int64_t>(parents.size())}, device));
  }
  for (const Partial& p : alive) finish(p, false);  // cut at max_len
  return finished[best_index(finished, length_penalty)];
}

}  // namespace tg::translate
