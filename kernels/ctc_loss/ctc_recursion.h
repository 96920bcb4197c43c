#pragma once
// The CTC forward-backward recursion for one sequence (Graves et al. 2006,
// in log space), shared by the host bodies of ctc_loss.h: the
// reference backend runs it sequence after sequence, the cpu backend splits
// the batch over its threads. Sums are taken in double.
//
// The target l (S labels) is extended with blanks, l' = (∅, l_1, ∅, l_2, ..., l_S, ∅),
// L = 2S + 1 positions. With y_t(c) = e^log_probs[t, c]:
//   α_0(0) = y_0(∅), α_0(1) = y_0(l_1);
//   α_t(s) = y_t(l'_s) (α_{t−1}(s) + α_{t−1}(s−1) + [l'_s ≠ ∅, l'_s ≠ l'_{s−2}] α_{t−1}(s−2))
//   β_{T−1}(L−1) = y_{T−1}(∅), β_{T−1}(L−2) = y_{T−1}(l_S);
//   β_t(s) = y_t(l'_s) (β_{t+1}(s) + β_{t+1}(s+1) + [l'_s ≠ ∅, l'_s ≠ l'_{s+2}] β_{t+1}(s+2))
//   p = α_{T−1}(L−1) + α_{T−1}(L−2);  loss = −ln p
//   ∂loss/∂log_probs[t, c] = −(1/p) Σ_{s: l'_s = c} α_t(s) β_t(s) / y_t(c)
// (each alignment's probability holds y_t(π_t) once; α_t β_t holds it twice).
// No alignment fits (T too short for the labels and their repeats): loss +inf,
// gradient 0.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/types/view.h"

namespace tg::ctc {

inline double log_add(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::abs(a - b)));
}

// One sequence: log_probs(t, c) reads step t's log-probability of class c
// (t < steps); labels[0:count]; writes the loss and, when grad is not null,
// grad(t, c) for t < steps (the caller zeroes the steps past them).
template <typename T, typename LogProb, typename Grad>
double ctc_sequence(const LogProb& log_probs, int64_t steps, int64_t classes, const int64_t* labels, int64_t count,
                    int64_t blank, Grad* grad) {
  constexpr double none = -std::numeric_limits<double>::infinity();
  const int64_t L = 2 * count + 1;
  auto label = [&](int64_t s) { return s % 2 == 0 ? blank : labels[s / 2]; };
  // May position s also come from s − 2 (skipping a blank)?
  auto skips = [&](int64_t s) { return s >= 2 && label(s) != blank && label(s) != label(s - 2); };

  std::vector<double> alpha(static_cast<size_t>(steps * L), none), beta(static_cast<size_t>(steps * L), none);
  auto a = [&](int64_t t, int64_t s) -> double& { return alpha[static_cast<size_t>(t * L + s)]; };
  auto b = [&](int64_t t, int64_t s) -> double& { return beta[static_cast<size_t>(t * L + s)]; };
  if (steps > 0) {
    a(0, 0) = log_probs(0, blank);
    if (L > 1) a(0, 1) = log_probs(0, label(1));
    for (int64_t t = 1; t < steps; ++t)
      for (int64_t s = 0; s < L; ++s) {
        double sum = a(t - 1, s);
        if (s >= 1) sum = log_add(sum, a(t - 1, s - 1));
        if (skips(s)) sum = log_add(sum, a(t - 1, s - 2));
        if (sum != none) a(t, s) = sum + log_probs(t, label(s));
      }
  }
  double log_p = none;
  if (steps > 0) log_p = L > 1 ? log_add(a(steps - 1, L - 1), a(steps - 1, L - 2)) : a(steps - 1, L - 1);
  const double loss = -log_p;
  if (grad == nullptr) return loss;
  if (log_p == none) {  // no alignment fits: nothing to move toward
    for (int64_t t = 0; t < steps; ++t)
      for (int64_t c = 0; c < classes; ++c) (*grad)(t, c) = T(0);
    return loss;
  }
  b(steps - 1, L - 1) = log_probs(steps - 1, blank);
  if (L > 1) b(steps - 1, L - 2) = log_probs(steps - 1, label(L - 2));
  for (int64_t t = steps - 2; t >= 0; --t)
    for (int64_t s = 0; s < L; ++s) {
      double sum = b(t + 1, s);
      if (s + 1 < L) sum = log_add(sum, b(t + 1, s + 1));
      if (s + 2 < L && skips(s + 2)) sum = log_add(sum, b(t + 1, s + 2));
      if (sum != none) b(t, s) = sum + log_probs(t, label(s));
    }
  std::vector<double> per_class(static_cast<size_t>(classes));
  for (int64_t t = 0; t < steps; ++t) {
    std::fill(per_class.begin(), per_class.end(), none);
    for (int64_t s = 0; s < L; ++s) {
      const size_t c = static_cast<size_t>(label(s));
      per_class[c] = log_add(per_class[c], a(t, s) + b(t, s));
    }
    for (int64_t c = 0; c < classes; ++c) {
      const double lc = per_class[static_cast<size_t>(c)];
      (*grad)(t, c) = lc == none ? T(0) : T(-std::exp(lc - log_probs(t, c) - log_p));
    }
  }
  return loss;
}

// Sequence b of a batch as Backend::ctc_loss lays it out (core/dispatch/backend.h):
// its loss, and its gradient column (zero past its steps) when grad is set.
template <typename T>
void ctc_batch_item(const View& log_probs, const View& targets, const View& input_lengths, const View& target_lengths,
                    int64_t blank, const View& loss, const View* grad, int64_t b) {
  const int64_t steps = input_lengths.as<const int64_t>()[b * input_lengths.strides[0]];
  const int64_t count = target_lengths.as<const int64_t>()[b * target_lengths.strides[0]];
  const T* lp = log_probs.as<const T>() + b * log_probs.strides[1];
  auto log_prob = [&](int64_t t, int64_t c) { return double(lp[t * log_probs.strides[0] + c * log_probs.strides[2]]); };
  T* g = grad != nullptr ? grad->as<T>() + b * grad->strides[1] : nullptr;
  auto grad_at = [&](int64_t t, int64_t c) -> T& { return g[t * grad->strides[0] + c * grad->strides[2]]; };
  const double l = ctc_sequence<T>(log_prob, steps, log_probs.shape[2], targets.as<const int64_t>() + b * targets.strides[0],
                                   count, blank, grad != nullptr ? &grad_at : nullptr);
  loss.as<T>()[b * loss.strides[0]] = T(l);
  if (grad != nullptr)
    for (int64_t t = steps; t < log_probs.shape[0]; ++t)
      for (int64_t c = 0; c < log_probs.shape[2]; ++c) grad_at(t, c) = T(0);
}

}  // namespace tg::ctc
