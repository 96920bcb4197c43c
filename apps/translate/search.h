#pragma once
// Decoding a trained Seq2Seq model: batched greedy search and beam search.
//
// Both run under tg::NoGrad and switch the model to evaluation mode (no
// dropout) for their duration, restoring its previous mode afterwards; a
// caller should still call model.eval() once before decoding many batches.
//
// With a shortlist on the model (Seq2Seq::use_shortlist), each batch decodes
// on its union of target ids (Shortlist::vocabulary of its sources): every
// step's log-probabilities are over those ids alone, and the hypotheses hold
// vocabulary ids as without one.
//
// Scores. A hypothesis y_1 .. y_n (then <eos>, when it finished) has
//   log_prob = Σ_t log p(y_t | y_<t, x)        (<eos>'s term included when finished)
//   score    = log_prob / length^α              length = n + 1 when finished, else n
// α (length_penalty) = 0: no normalisation, the plain sum, which favours short
// output; α = 1: the average log-probability per token; values between
// (0.6–0.7 is common) normalise partly.
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"
#include "apps/translate/models/seq2seq.h"

namespace tg::translate {

struct Hypothesis {
  std::vector<int64_t> tokens;  // y_1 .. y_n, without <bos>/<eos>
  bool finished = false;        // ended with <eos> (else it was cut at max_len)
  double log_prob = 0;          // Σ log p of the tokens, <eos> included when finished
  // (steps, S) float32 on the host: row t = the attention weights over the S real source
  // positions when y_t was chosen, one row per generated token including the
  // final <eos>. Undefined for models without attention (Cho) or when not asked for.
  Tensor attention;
  // What the score divides by: tokens.size() + 1 with <eos>, else tokens.size().
  int64_t length() const { return static_cast<int64_t>(tokens.size()) + (finished ? 1 : 0); }
};

// How beam search ranks finished hypotheses of different lengths |Y|:
//   power (default)  log p / |Y|^α                      α = 0: raw log p
//   gnmt             log p / ((5 + |Y|) / 6)^α          Wu et al. 2016 (GNMT), eq. 14
// A plain number converts to the power form with that α.
struct LengthPenalty {
  double alpha = 1.0;
  bool gnmt = false;
  LengthPenalty(double a = 1.0, bool use_gnmt = false) : alpha(a), gnmt(use_gnmt) {}  // NOLINT: implicit from α
  std::string str() const;  // "length^1", "gnmt α 0.6"
};

// log_prob / lp(length) (see LengthPenalty); length 0 gives log_prob.
double normalized_score(double log_prob, int64_t length, LengthPenalty length_penalty);
inline double normalized_score(const Hypothesis& h, LengthPenalty length_penalty) {
  return normalized_score(h.log_prob, h.length(), length_penalty);
}

// Greedy search for a padded source batch: at every step each sentence takes
// its most probable next token (the first on ties), until it emits <eos> or
// has max_len tokens. src (S, B) int64, src_lengths (B) int64, src_mask (B, S)
// bool as in text::Batch, src and src_mask on the model's device (Batch::to). Returns one hypothesis per sentence, in batch order;
// with_attention fills their attention matrices.
//
// The chosen tokens stay on the device and feed the next step there; the
// host reads them, finds the sentences that ended and shrinks the state every
// `check_every` steps (0: every step on the cpu, every 8 on a GPU, where each
// read waits for the device). Rows of sentences that ended in between go on
// decoding unread.
std::vector<Hypothesis> greedy_decode(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                      const Tensor& src_mask, int64_t max_len, bool with_attention = false,
                                      int64_t check_every = 0);

// Beam search, for each sentence of a padded source batch (src (S, B) int64,
// src_lengths (B) int64 on the host, src_mask (B, S) bool, as in text::Batch,
// src and src_mask on the model's device). Sentence b may take at most
// max_lens[b] steps (one limit for all in the second form). Returns one
// hypothesis per sentence, in batch order; with_attention fills their
// attention matrices (models with attention only).
//
// Per sentence: the beam holds the K = beam_size best open hypotheses (all of
// one length, so ranking by log_prob is ranking by score). At each step the 2K
// best extensions are ranked (by log_prob, then by (hypothesis, token) on
// ties): those ending in <eos> among the first K are finished, the others
// refill the beam up to K. The search stops when K hypotheses have finished
// and the best of them scores at least the best open one's current
// normalized_score (exact for α = 0, where log_prob can only fall; the common
// heuristic for α > 0), or after max_len steps, when the open ones compete as
// they are. The result is the finished hypothesis with the best
// normalized_score(·, length_penalty) (the first to finish on ties).
// beam_size 1 gives exactly greedy_decode's result.
//
// Batched: the batch is encoded once and every step is one model.step on a
// state of N rows: B at the first step (one empty hypothesis per sentence),
// then a block of K rows per sentence still searching, its open hypotheses
// first; prev tokens (N), hidden (N, H) and the encoding repeated per row
// (select_rows of the (B, ...) encoding) give log_probs (N, V). These come to
// the host once per step: each hypothesis's best 2K tokens (one pass over its
// V scores), merged per sentence, give the sentence's 2K best of its (n·V)
// candidates. The rows of the next state are the chosen parents' rows of the
// new hidden state (index_select). A block stays where it is until the state
// is laid out again, which happens only when the sentences still searching fit
// in fewer blocks (a power of two up to 8, then a multiple of 8): then finished
// sentences drop out, the encoding is repeated anew and N shrinks. Until then
// rows of finished sentences and unused rows of a block are idle (computed,
// never read); N, and so every tensor's shape, stays the same from step to
// step, and the encoding is copied a handful of times per batch. Each
// sentence's result equals a search of that sentence alone, up to the float
// rounding of batched products.
std::vector<Hypothesis> beam_search(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                    const Tensor& src_mask, int64_t beam_size, const std::vector<int64_t>& max_lens,
                                    LengthPenalty length_penalty = 1.0, bool with_attention = false);
std::vector<Hypothesis> beam_search(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                    const Tensor& src_mask, int64_t beam_size, int64_t max_len,
                                    LengthPenalty length_penalty = 1.0, bool with_attention = false);

// The same search, returning each sentence's n best: its finished hypotheses
// ranked by normalized_score, best first (on ties, the first to finish first,
// so the front is beam_search's result), at most beam_size of them.
std::vector<std::vector<Hypothesis>> beam_search_n_best(Seq2Seq& model, const Tensor& src, const Tensor& src_lengths,
                                                        const Tensor& src_mask, int64_t beam_size,
                                                        const std::vector<int64_t>& max_lens,
                                                        LengthPenalty length_penalty = 1.0,
                                                        bool with_attention = false);

// Beam search for one source sentence `src` (token ids, no <bos>/<eos>), on
// the model's device: the batched search with B = 1, attention included when
// the model has it.
Hypothesis beam_search(Seq2Seq& model, const std::vector<int64_t>& src, int64_t beam_size, int64_t max_len,
                       LengthPenalty length_penalty = 1.0);

}  // namespace tg::translate
