#include "seq2seq_flops.h"

#include "core/services/error.h"

namespace tg::bench {

namespace {

// The forward products of one batch (the table in the header).
double cho_forward(double S, double B, double T, double N, double E, double H, double V) {
  const double encoder = 2 * S * B * E * 3 * H + 2 * S * B * H * 3 * H;
  const double initial = 2 * B * H * H;
  const double input = 2 * T * B * E * 3 * H + 2 * B * H * 3 * H;
  const double recurrence = 2 * T * B * H * 3 * H;
  const double output = 2 * N * (H + E) * V + 2 * B * H * V;
  return encoder + initial + input + recurrence + output;
}

double bahdanau_forward(double S, double B, double T, double N, double E, double H, double V, bool tied) {
  const double encoder = 2 * (2 * S * B * E * 3 * H + 2 * S * B * H * 3 * H);
  const double keys_and_initial = 2 * B * S * 2 * H * H + 2 * B * 2 * H * H;
  const double input = 2 * T * B * E * 3 * H + T * 2 * B * 2 * H * 3 * H;
  const double attention = T * (2 * B * H * H + 2 * B * S * H + 2 * B * S * 2 * H);
  const double recurrence = 2 * T * B * H * 3 * H;
  // Tied: [s; c; E y] -> E, then E -> V through the embedding matrix.
  const double output = tied ? 2 * N * (3 * H + E) * E + 2 * N * E * V : 2 * N * (3 * H + E) * V;
  return encoder + keys_and_initial + input + attention + recurrence + output;
}

// Per layer and side, d = model size, F = feed-forward size (attention: projections,
// q kᵀ and the weighted sum of v); the output product through V.
double transformer_forward(double S, double B, double T, double N, double d, double F, double L, double V) {
  const double encoder = 2 * S * B * d * 4 * d + 2 * 2 * B * S * S * d + 2 * S * B * d * F * 2;
  const double self = 2 * T * B * d * 4 * d + 2 * 2 * B * T * T * d;
  const double cross = 2 * T * B * d * 2 * d + 2 * S * B * d * 2 * d + 2 * 2 * B * T * S * d;
  const double feed_forward = 2 * T * B * d * F * 2;
  return L * (encoder + self + cross + feed_forward) + 2 * N * d * V;
}

}  // namespace

double training_step_matmul_flops(const translate::ModelConfig& c, int64_t S, int64_t B, int64_t T, int64_t N) {
  if (c.kind == "transformer")
    return 3 * transformer_forward(static_cast<double>(S), static_cast<double>(B), static_cast<double>(T),
                                   static_cast<double>(N),
                                   static_cast<double>(c.embed), static_cast<double>(c.hidden),
                                   static_cast<double>(c.layers), static_cast<double>(c.tgt_vocab));
  if (c.cell != "gru") fail("training_step_matmul_flops: only the GRU cell is counted, got '{}'", c.cell);
  const double s = static_cast<double>(S), b = static_cast<double>(B), t = static_cast<double>(T);
  const double n = static_cast<double>(N);
  const double e = static_cast<double>(c.embed), h = static_cast<double>(c.hidden);
  const double v = static_cast<double>(c.tgt_vocab);
  if (c.kind == "cho") return 3 * cho_forward(s, b, t, n, e, h, v);
  if (c.kind == "bahdanau") return 3 * bahdanau_forward(s, b, t, n, e, h, v, c.tie_embeddings);
  fail("training_step_matmul_flops: unknown model kind '{}'; known kinds: cho, bahdanau, transformer", c.kind);
}

}  // namespace tg::bench
