#pragma once
// Hand-written SVG: the training curve, an attention alignment (or any
// labelled) matrix, a grid of small filters, bars and a roofline. Each
// returns the whole document as a string; tg::write_text_file
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

// Any labelled matrix of values in [0, 1] drawn the same way (attention_svg is
// this with the scale called "weight"): column labels across the top, row
// labels down the side, grey level = value, the scale at the right named
// `scale_label`. values: (rows, columns); a confusion matrix's rows are the
// true classes and its values each row's shares.
std::string matrix_svg(const std::vector<std::string>& column_labels, const std::vector<std::string>& row_labels,
                       const Tensor& values, const std::string& title, const std::string& scale_label);

// Small 2-D kernels (a convolution's learned filters) side by side, `columns`
// to a row: each cell red for positive, blue for negative, white for 0, each
// filter scaled by its own largest |value|. filters: (N, KH, KW).
std::string filter_grid_svg(const Tensor& filters, int64_t columns, const std::string& title);

// Horizontal bars, one per label, the value written beside each; a dashed
// line at `reference` (a limit the bars are measured against, labelled
// `reference_label`) unless it is 0. Values must be finite and >= 0.
struct Bar {
  std::string label;
  double value = 0;
};
std::string bar_chart_svg(const std::vector<Bar>& bars, const std::string& title, const std::string& unit,
                          double reference = 0, const std::string& reference_label = "");

// The roofline model on log-log axes: what a kernel can reach at an
// arithmetic intensity I (FLOP per byte moved) is min(peak, bandwidth · I);
// the roof is drawn from measured peak_gflops and bandwidth_gbs, and each
// point where a measured kernel stands.
struct RooflinePoint {
  std::string label;
  double intensity = 0;  // FLOP per byte
  double gflops = 0;
};
std::string roofline_svg(double peak_gflops, double bandwidth_gbs, const std::vector<RooflinePoint>& points,
                         const std::string& title);

}  // namespace tg::plot
