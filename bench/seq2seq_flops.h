#pragma once
// Matrix-product FLOPs of one training step of the translation models, from
// the shapes alone: what the sgemm-limit estimate of bench/seq2seq.sh divides by.
//
// A product (m, k) x (k, n) costs 2·m·k·n forward. Backward computes the
// gradient of both operands (every operand here needs one: weights, and
// activations that lead back to the trainable embeddings), two products of
// the same size, so a step costs 3 × the forward products. Batch (S, B) source,
// (T, B) target, padding included (tapegrad's encoder runs the padded steps;
// PyTorch's packed GRU skips them, so it does slightly less), except in the
// output layer, which both run on the N target tokens alone; E embed,
// H hidden, V target vocabulary; embedding lookups, elementwise work and the
// softmax are not counted. Forward products:
//
//   Cho       encoder GRU    2·S·B·E·3H + 2·S·B·H·3H
//             s_0            2·B·H·H
//             decoder input  2·T·B·E·3H + 2·B·H·3H          (E y part per step, c part once)
//             recurrence     2·T·B·H·3H
//             output         2·N·(H+E)·V + 2·B·H·V          ([s; E y] per token, c part once)
//   Bahdanau  encoder BiGRU  2 · (2·S·B·E·3H + 2·S·B·H·3H)
//             keys, s_0      2·B·S·2H·H + 2·B·2H·H
//             decoder input  2·T·B·E·3H + T · 2·B·2H·3H     (E y once, c_t per step)
//             attention      T · (2·B·H·H + 2·B·S·H + 2·B·S·2H)   query, scores vᵀ, context
//             recurrence     2·T·B·H·3H
//             output         2·N·(3H+E)·V, tied: 2·N·(3H+E)·E + 2·N·E·V
//   Transformer (E = d the model size, H = F the feed-forward size, L layers a side), per layer:
//             encoder        2·S·B·d·4d + 2·2·B·S·S·d + 2·S·B·d·F·2   q k v o, q kᵀ and α v, feed-forward
//             decoder self   2·T·B·d·4d + 2·2·B·T·T·d
//             decoder cross  2·T·B·d·2d + 2·S·B·d·2d + 2·2·B·T·S·d   q o, k v of the memory, q kᵀ and α v
//             decoder ff     2·T·B·d·F·2
//             output (once)  2·N·d·V
#include <cstdint>

#include "apps/translate/models/seq2seq.h"

namespace tg::bench {

// FLOPs of the matrix products of one training step (forward + backward).
// N: the batch's target tokens (Batch::num_tgt_tokens), the rows of the output layer.
double training_step_matmul_flops(const translate::ModelConfig& config, int64_t S, int64_t B, int64_t T, int64_t N);

}  // namespace tg::bench
