#include "apps/translate/search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/tape.h"
#include "data/text/vocab.h"
#include "apps/translate/beam_ranking.h"
#include "apps/translate/models/model_parts.h"
#include "apps/translate/shortlist.h"
#include "ops/compare.h"
#include "ops/index_select.h"
#include "ops/max.h"
#include "ops/stack.h"

namespace tg::translate {

namespace {

using text::Vocab;

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
size_t best_index(const std::vector<Hypothesis>& hyps, LengthPenalty length_penalty) {
  size_t best = 0;
  for (size_t k = 1; k < hyps.size(); ++k)
    if (normalized_score(hyps[k], length_penalty) > normalized_score(hyps[best], length_penalty)) best = k;
  return best;
}

double best_score(const std::vector<Hypothesis>& hyps, LengthPenalty length_penalty) {
  return normalized_score(hyps[best_index(hyps, length_penalty)], length_penalty);
}

// With the model's shortlist: the batch's target ids (ascending), and
// `encoded` restricted to them; without one, nothing (every id).
std::vector<int64_t> apply_shortlist(const Seq2Seq& model, const Tensor& src, Encoded& encoded) {
  if (model.shortlist() == nullptr) return {};
  std::vector<int64_t> ids = model.shortlist()->vocabulary(src);
  encoded = model.restrict_output(encoded, ids_on(ids, Shape{static_cast<int64_t>(ids.size())}, src.device()));
  return ids;
}

void check_max_len(int64_t max_len, const char* op) {
  if (max_len < 1) fail("{}: max_len must be at least 1, got {}", op, max_len);
}

void check_beam_settings(int64_t beam_size, LengthPenalty length_penalty) {
  if (beam_size < 1) fail("beam_search: beam_size must be at least 1, got {}", beam_size);
  if (!(length_penalty.alpha >= 0))
    fail("beam_search: length_penalty α must be >= 0, got {}", length_penalty.alpha);
}

// ---- beam search (search.h describes the algorithm) ----

// A hypothesis still open: one row of the batched decoder state.
struct Partial {
  std::vector<int64_t> tokens;
  double log_prob = 0;
  std::vector<float> attention;  // (steps, length) row-major, when asked for
};

// One sentence's search: its open hypotheses (consecutive rows of the state)
// and those it has finished. It starts from the empty hypothesis.
struct SentenceBeam {
  int64_t length = 0;   // source tokens: the columns of its attention rows
  int64_t max_len = 0;  // the steps it may take
  std::vector<Partial> alive = std::vector<Partial>(1);
  std::vector<Hypothesis> finished;
  bool done() const { return alive.empty(); }
};

// Where a sentence's rows lie in the step's attention (N, S) on the host:
// from row `first`; weights is null when attention is not collected.
struct BeamRows {
  int64_t first;
  const float* weights;
  int64_t source;  // S, the padded source length
};

// One step of one sentence (search.h): of the ranked extensions, those ending
// in <eos> among the first K finish, the others refill the beam up to K; then
// the stop rule, or the cut at max_len after step t. Returns, per new open
// hypothesis, the one it extends (its place in the old beam).
// `columns`: the target id of each log_probs column (a shortlist), or empty (column = id).
std::vector<int64_t> advance(SentenceBeam& s, const std::vector<Extension>& ranked, int64_t V, const BeamRows& rows,
                             const std::vector<int64_t>& columns, int64_t beam_size, LengthPenalty length_penalty,
                             int64_t t) {
  auto finish = [&](const Partial& p, bool ended) {
    Hypothesis h;
    h.tokens = p.tokens;
    h.finished = ended;
    h.log_prob = p.log_prob;
    if (rows.weights != nullptr) h.attention = attention_matrix(p.attention, s.length);
    s.finished.push_back(std::move(h));
  };
  std::vector<Partial> next;
  std::vector<int64_t> parents;
  for (size_t r = 0; r < ranked.size() && static_cast<int64_t>(next.size()) < beam_size; ++r) {
    const int64_t i = ranked[r].index / V, column = ranked[r].index % V;
    const int64_t token = columns.empty() ? column : columns[static_cast<size_t>(column)];
    const Partial& parent = s.alive[static_cast<size_t>(i)];
    Partial p;
    p.log_prob = ranked[r].score;
    p.tokens = parent.tokens;
    if (rows.weights != nullptr) {
      p.attention = parent.attention;
      const float* row = rows.weights + (rows.first + i) * rows.source;
      p.attention.insert(p.attention.end(), row, row + s.length);
    }
    if (token == Vocab::eos_id) {
      if (static_cast<int64_t>(r) < beam_size) finish(p, true);  // an <eos> below the first K is not a top-K extension
      continue;
    }
    p.tokens.push_back(token);
    next.push_back(std::move(p));
    parents.push_back(i);
  }
  // Done once K have finished and none still open scores better now: for α = 0
  // exact (log_prob only falls), for α > 0 the usual heuristic.
  const bool done =
      next.empty() || (static_cast<int64_t>(s.finished.size()) >= beam_size &&
                       best_score(s.finished, length_penalty) >=
                           normalized_score(next.front().log_prob, static_cast<int64_t>(next.front().tokens.size()),
                                            length_penalty));
  if (done) next.clear();
  if (t + 1 >= s.max_len) {  // cut at max_len: the open ones compete as they are
    for (const Partial& p : next) finish(p, false);
    next.clear();
  }
  s.alive = std::move(next);
  if (s.alive.empty()) parents.clear();
  return parents;
}

// Where each sentence's open hypotheses sit in the decoder state. At the
// first step a sentence has one row. After that each open sentence owns a
// block of K rows, its hypotheses in the first of them. A block stays put
// until the next re-layout, so the repeated encoding is copied only then;
// rows of sentences that finished meanwhile, and unused rows of a block, are
// idle: computed but not read. The state's rows stay the same in number
// between re-layouts, so each step's tensors reuse the allocator's blocks.
struct Layout {
  std::vector<int64_t> sentence;  // (N) the sentence whose encoding row r holds
  std::vector<int64_t> first;     // (B) the first row of each sentence's block
  int64_t blocks = 0;             // blocks (sentences) the rows have room for
  int64_t rows() const { return static_cast<int64_t>(sentence.size()); }
};

Layout first_layout(int64_t B) {
  Layout layout;
  layout.sentence.resize(static_cast<size_t>(B));
  std::iota(layout.sentence.begin(), layout.sentence.end(), 0);
  layout.first = layout.sentence;
  layout.blocks = B;
  return layout;
}

// The blocks for `open` sentences: a power of two up to 8, then a multiple of
// 8, at most B. Few sizes, so a batch re-lays its state a handful of times,
// with at most 8 idle blocks (and fewer than half of them for small counts).
int64_t block_count(int64_t open, int64_t B) {
  int64_t blocks = 1;
  while (blocks < open && blocks < 8) blocks *= 2;
  if (open > 8) blocks = (open + 7) / 8 * 8;
  return std::min(blocks, B);
}

// A block of K rows for each open sentence, in batch order, then idle blocks
// (they repeat the first open sentence's encoding).
Layout block_layout(const std::vector<int64_t>& open, int64_t blocks, int64_t beam_size, int64_t B) {
  Layout layout;
  layout.first.assign(static_cast<size_t>(B), -1);
  layout.blocks = blocks;
  layout.sentence.assign(static_cast<size_t>(blocks * beam_size), open.front());
  for (size_t k = 0; k < open.size(); ++k) {
    layout.first[open[k]] = static_cast<int64_t>(k) * beam_size;
    std::fill_n(layout.sentence.begin() + static_cast<std::ptrdiff_t>(k) * beam_size, beam_size, open[k]);
  }
  return layout;
}

}  // namespace

double normalized_score(double log_prob, int64_t length, LengthPenalty length_penalty) {
  if (length <= 0 || length_penalty.alpha == 0) return log_prob;
  const double n = static_cast<double>(length);
  return log_prob / std::pow(length_penalty.gnmt ? (5 + n) / 6 : n, length_penalty.alpha);
}

std::string LengthPenalty::str() const {
  return gnmt ? fmt::format("gnmt α {}", alpha) : fmt::format("length^{}", alpha);
}

// Rows are laid out as beam search's with one hypothesis per sentence: when the
// sentences still open fit in fewer blocks (block_count), the state shrinks to
// them (at a check), so finished sentences stop costing a row of every product.
std::vector<Hypothesis> greedy_decode(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                      const Tensor& src_mask, int64_t max_len, bool with_attention,
                                      int64_t check_every) {
  check_max_len(max_len, "greedy_decode");
  if (check_every < 0) fail("greedy_decode: check_every must be >= 0, got {}", check_every);
  NoGrad no_grad;
  nn::EvalMode eval(model);
  Encoded encoded = model.encode(src, src_lengths, src_mask);  // checks the shapes
  apply_shortlist(model, src, encoded);
  const Tensor column_ids = encoded.shortlist ? encoded.shortlist->ids : Tensor();  // (U) on the device, or every id
  const int64_t S = src.size(0), B = src.size(1);
  const Device device = src.device();
  if (check_every == 0) check_every = device.is_host() ? 1 : 8;
  const std::vector<int64_t> lengths = src_lengths.to_vector<int64_t>();

  std::vector<Hypothesis> hyps(static_cast<size_t>(B));
  std::vector<std::vector<float>> rows(static_cast<size_t>(B));  // attention, row-major per sentence
  Layout layout = first_layout(B);
  Encoded laid_out = encoded;              // row r holds the encoding of layout.sentence[r]
  Tensor hidden = encoded.initial_hidden;  // (N, H), or (N, 2H) with an LSTM cell
  Tensor prev = ids_on(std::vector<int64_t>(static_cast<size_t>(B), Vocab::bos_id), Shape{B}, device);  // (N)
  std::vector<Tensor> tokens_since, log_probs_since, attention_since;  // per step since the last check: (N)
  for (int64_t t = 0; t < max_len; ++t) {
    const Step step = model.step(laid_out, prev, hidden);
    const MaxResult best = max(step.log_probs, 1);  // (N) values and argmax (first on ties)
    const Tensor chosen = column_ids.defined() ? index_select(column_ids, 0, best.indices) : best.indices;  // token ids
    tokens_since.push_back(chosen);
    log_probs_since.push_back(best.values.to(DType::f64));
    if (with_attention && step.attention.defined()) attention_since.push_back(step.attention);
    prev = chosen;
    hidden = step.hidden;
    if (static_cast<int64_t>(tokens_since.size()) < check_every && t + 1 < max_len) continue;

    // The check: the steps since the last one, read at once, sentence by sentence in step order.
    const int64_t steps = static_cast<int64_t>(tokens_since.size()), N = layout.rows();
    const std::vector<int64_t> tokens = stack(tokens_since).to_vector<int64_t>();          // (steps, N)
    const std::vector<double> log_probs = stack(log_probs_since).to_vector<double>();     // (steps, N)
    const std::vector<float> attention =
        attention_since.empty() ? std::vector<float>() : stack(attention_since).to_vector<float>();  // (steps, N, S)
    tokens_since.clear(), log_probs_since.clear(), attention_since.clear();
    std::vector<int64_t> open;  // the sentences still decoding
    for (int64_t b = 0; b < B; ++b) {
      Hypothesis& h = hyps[b];
      const int64_t r = layout.first[b];
      for (int64_t k = 0; k < steps && !h.finished; ++k) {
        h.log_prob += log_probs[k * N + r];
        if (!attention.empty()) append_row(attention, k * N + r, S, lengths[b], rows[b]);
        if (tokens[k * N + r] == Vocab::eos_id) h.finished = true;
        else h.tokens.push_back(tokens[k * N + r]);
      }
      if (!h.finished) open.push_back(b);
    }
    if (open.empty()) break;
    const int64_t blocks = block_count(static_cast<int64_t>(open.size()), B);
    if (blocks >= layout.blocks) continue;
    const Layout next = block_layout(open, blocks, 1, B);
    std::vector<int64_t> source(static_cast<size_t>(next.rows()), 0);  // next row <- this row (idle rows: row 0)
    for (int64_t b : open) source[next.first[b]] = layout.first[b];
    const Tensor moved = ids_on(source, Shape{next.rows()}, device);
    hidden = index_select(hidden, 0, moved);
    prev = index_select(prev, 0, moved);
    laid_out = select_rows(encoded, ids_on(next.sentence, Shape{next.rows()}, device));
    layout = next;
  }
  if (with_attention)
    for (int64_t b = 0; b < B; ++b)
      if (!rows[b].empty()) hyps[b].attention = attention_matrix(rows[b], lengths[b]);
  return hyps;
}

namespace {

// The search beam_search describes; returns each sentence's finished hypotheses, in the order they finished.
std::vector<std::vector<Hypothesis>> search_beams(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                                  const Tensor& src_mask, int64_t beam_size,
                                                  const std::vector<int64_t>& max_lens, LengthPenalty length_penalty,
                                                  bool with_attention) {
  check_beam_settings(beam_size, length_penalty);
  detail::check_source(src, src_lengths, src_mask, "beam_search");
  const int64_t S = src.size(0), B = src.size(1);
  if (static_cast<int64_t>(max_lens.size()) != B)
    fail("beam_search: max_lens must hold one limit per sentence ({}), got {}", B, max_lens.size());
  for (int64_t max_len : max_lens) check_max_len(max_len, "beam_search");
  const std::vector<int64_t> lengths = src_lengths.to_vector<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    if (lengths[b] < 1 || lengths[b] > S)
      fail("beam_search: src_lengths[{}] must be in [1, {}] (every source needs at least one token), got {}", b, S,
           lengths[b]);
  NoGrad no_grad;
  nn::EvalMode eval(model);
  const Device device = src.device();
  Encoded encoded = model.encode(src, src_lengths, src_mask);  // (B, ...)
  const std::vector<int64_t> columns = apply_shortlist(model, src, encoded);

  std::vector<SentenceBeam> sentences(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    sentences[b].length = lengths[b];
    sentences[b].max_len = max_lens[b];
  }
  Layout layout = first_layout(B);
  Encoded repeated = encoded;              // row r holds the encoding of layout.sentence[r]: (N, ...)
  Tensor hidden = encoded.initial_hidden;  // (N, H), or (N, 2H) with an LSTM cell
  for (int64_t t = 0;; ++t) {
    const int64_t N = layout.rows();
    std::vector<int64_t> prev(static_cast<size_t>(N), Vocab::pad_id);  // (N) idle rows read <pad>
    for (int64_t b = 0; b < B; ++b)
      for (size_t i = 0; i < sentences[b].alive.size(); ++i) {
        const std::vector<int64_t>& tokens = sentences[b].alive[i].tokens;
        prev[layout.first[b] + i] = tokens.empty() ? Vocab::bos_id : tokens.back();
      }
    const Step step = model.step(repeated, ids_on(prev, Shape{N}, device), hidden);
    std::vector<double> row_log_probs(static_cast<size_t>(N), -INFINITY);  // idle rows: -inf
    for (int64_t b = 0; b < B; ++b)
      for (size_t i = 0; i < sentences[b].alive.size(); ++i) row_log_probs[layout.first[b] + i] = sentences[b].alive[i].log_prob;
    const int64_t V = step.log_probs.size(1), rows_per_block = N / layout.blocks;
    const RankedBlocks ranked = rank_blocks(step.log_probs, row_log_probs, layout.blocks, 2 * beam_size);
    std::vector<float> attention;  // (N, S) row-major
    if (with_attention && step.attention.defined()) attention = step.attention.to_vector<float>();

    std::vector<std::vector<int64_t>> parents(static_cast<size_t>(B));  // per new hypothesis, the one it extends
    std::vector<int64_t> open;                                          // the sentences still searching
    for (int64_t b = 0; b < B; ++b) {
      SentenceBeam& s = sentences[b];
      if (s.done()) continue;
      const int64_t first = layout.first[b];
      const BeamRows rows{first, attention.empty() ? nullptr : attention.data(), S};
      const int64_t alive = static_cast<int64_t>(s.alive.size());
      parents[b] = advance(s, ranked.of_block(first / rows_per_block, alive, V), V, rows, columns, beam_size,
                           length_penalty, t);
      if (!s.done()) open.push_back(b);
    }
    if (open.empty()) break;
    const int64_t blocks = block_count(static_cast<int64_t>(open.size()), B);
    const bool relayout = t == 0 || blocks < layout.blocks;
    const Layout next = relayout ? block_layout(open, blocks, beam_size, B) : layout;
    // Row r of the next state continues row source[r] of this one (idle rows: row 0).
    std::vector<int64_t> source(static_cast<size_t>(next.rows()), 0);
    for (int64_t b : open)
      for (size_t j = 0; j < parents[b].size(); ++j) source[next.first[b] + j] = layout.first[b] + parents[b][j];
    hidden = index_select(step.hidden, 0, ids_on(source, Shape{next.rows()}, device));
    if (relayout) repeated = select_rows(encoded, ids_on(next.sentence, Shape{next.rows()}, device));
    layout = next;
  }
  std::vector<std::vector<Hypothesis>> finished;
  finished.reserve(static_cast<size_t>(B));
  for (SentenceBeam& s : sentences) finished.push_back(std::move(s.finished));
  return finished;
}

}  // namespace

std::vector<Hypothesis> beam_search(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                    const Tensor& src_mask, int64_t beam_size, const std::vector<int64_t>& max_lens,
                                    LengthPenalty length_penalty, bool with_attention) {
  std::vector<std::vector<Hypothesis>> finished =
      search_beams(model, src, src_lengths, src_mask, beam_size, max_lens, length_penalty, with_attention);
  std::vector<Hypothesis> best;
  best.reserve(finished.size());
  for (std::vector<Hypothesis>& f : finished) best.push_back(std::move(f[best_index(f, length_penalty)]));
  return best;
}

std::vector<std::vector<Hypothesis>> beam_search_n_best(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                                        const Tensor& src_mask, int64_t beam_size,
                                                        const std::vector<int64_t>& max_lens,
                                                        LengthPenalty length_penalty, bool with_attention) {
  std::vector<std::vector<Hypothesis>> finished =
      search_beams(model, src, src_lengths, src_mask, beam_size, max_lens, length_penalty, with_attention);
  for (std::vector<Hypothesis>& f : finished) {
    // Best first; ties keep the order of finishing, so the first is beam_search's choice.
    std::stable_sort(f.begin(), f.end(), [&](const Hypothesis& a, const Hypothesis& b) {
      return normalized_score(a, length_penalty) > normalized_score(b, length_penalty);
    });
    if (static_cast<int64_t>(f.size()) > beam_size) f.resize(static_cast<size_t>(beam_size));
  }
  return finished;
}

std::vector<Hypothesis> beam_search(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                    const Tensor& src_mask, int64_t beam_size, int64_t max_len,
                                    LengthPenalty length_penalty, bool with_attention) {
  check_max_len(max_len, "beam_search");
  detail::check_source(src, src_lengths, src_mask, "beam_search");
  return beam_search(model, src, src_lengths, src_mask, beam_size, std::vector<int64_t>(src.size(1), max_len),
                     length_penalty, with_attention);
}

Hypothesis beam_search(Seq2Seq& model, const std::vector<int64_t>& src, int64_t beam_size, int64_t max_len,
                       LengthPenalty length_penalty) {
  if (src.empty()) fail("beam_search: the source sentence is empty; it needs at least one token");
  const int64_t S = static_cast<int64_t>(src.size());
  const Device device = model.device();  // the length stays on the host, as in text::Batch
  return beam_search(model, ids_on(src, Shape{S, 1}, device), index_tensor({S}, Shape{1}),
                     ne(ones({1, S}, {DType::f64, device}), 0.0), beam_size, max_len, length_penalty, true)
      .front();  // (S, 1), (1), (1, S)
}

}  // namespace tg::translate
