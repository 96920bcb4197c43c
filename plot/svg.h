#pragma once
// Hand-written SVG: the training curve and an attention alignment matrix.
// Both return the whole document as a string; tg::write_text_file
// (io/text_file.h) puts it on disk. Programs draw with it (translate, speech,
// the tutorial), so it is a room of its own rather than part of a model's
// library.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::plot {

// One row of metrics.csv.
struct EpochMetrics {
  int64_t epoch = 0;  // 1-based, as printed
  int64_t step = 0;   // global optimizer steps after the epoch
  double train_loss = 0, val_loss = 0, val_ppl = 0, val_bleu = 0, lr = 0, seconds = 0;
};

// & < > " ' as XML entities.
std::string xml_escape(std::string_view text);

// Values for axis ticks: about `count` round numbers (1, 2 or 5 × 10^k apart)
// covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

// Two panels over the epochs: train and validation loss above, validation
// BLEU below (its axis spans the values, not from 0), each with ticks, labels
// and a legend above it; the best validation BLEU is ringed and its epoch
// marked by a dashed line.
std::string curve_svg(const std::vector<EpochMetrics>& metrics);

// The alignment matrix of Bahdanau et al.'s figure 3: source words across the
// top, target words down the side, one cell per (target, source) pair with
// grey level = weight (black 0, white 1, shown by a colour scale at the
// right), `title` above it. weights: (targets, sources) float.
std::string attention_svg(const std::vector<std::string>& source_words, const std::vector<std::string>& target_words,
                          const Tensor& weights, const std::string& title = "Attention weights");

}  // namespace tg::plot
