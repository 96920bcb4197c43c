#pragma once
// CTC loss (Graves et al. 2006; the recursion and its formulas in
// ctc_recursion.h), the kernel of ops/ctc_loss.cpp, sequence b of B:
// log_probs (T, B, C) float contiguous, targets int64 (B, S) contiguous (row
// b's first target_lengths[b] labels), input_lengths and target_lengths
// int64 (B), blank in [0, C); the op has checked every length:
//   loss[b] = −ln Σ_{alignments π of targets[b] in input_lengths[b] steps} Π_t e^log_probs[t, b, π_t]
//   grad[t, b, c] = ∂loss[b]/∂log_probs[t, b, c]   (0 for t ≥ input_lengths[b])
// A sequence no alignment fits gets loss +inf and gradient 0. grad absent
// (data null): no gradient wanted.
#include <cstdint>

#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct CtcLossArgs {
  View log_probs, targets, input_lengths, target_lengths;
  int64_t blank;
  View loss;
  View grad;  // data == nullptr: not wanted
};

KernelTable<CtcLossArgs>& ctc_loss_table();

inline void ctc_loss(Backend& backend, const CtcLossArgs& args) { ctc_loss_table().run(backend, args); }

}  // namespace tg::kernels
