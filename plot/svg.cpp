#include "plot/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/services/error.h"
#include "plot/svg_document.h"

namespace tg::plot {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_document_start(double width, double height, const std::string& title, int font_size) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" "
      "font-family=\"sans-serif\" font-size=\"{2}\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"12\" y=\"22\" font-size=\"15\">{3}</text>\n",
      width, height, font_size, xml_escape(title));
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12) hi = lo + 1;
  const double raw = (hi - lo) / std::max(count, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step)
    if (t >= lo - step * 1e-9) ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

namespace {

// A plotting area: data (x, y) -> pixels, with ticks drawn around it.
struct Panel {
  double left, top, width, height;
  double x_lo, x_hi, y_lo, y_hi;
  double px(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * width; }
  double py(double y) const { return top + height - (y - y_lo) / (y_hi - y_lo) * height; }
};

std::string tick_label(double v) {
  std::string s = fmt::format("{:.3g}", v);
  return s;
}

// Frame, ticks and axis labels of a panel.
std::string axes(const Panel& p, const std::vector<double>& x_ticks, const std::vector<double>& y_ticks,
                 const std::string& x_label, const std::string& y_label) {
  std::string s = fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333\"/>\n", p.left,
      p.top, p.width, p.height);
  for (double t : y_ticks) {
    const double y = p.py(t);
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", p.left, y,
                     p.left + p.width, y);
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#333\"/>\n", p.left - 5,
                     y, p.left, y);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", p.left - 8, y + 4,
                     tick_label(t));
  }
  for (double t : x_ticks) {
    const double x = p.px(t);
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#333\"/>\n", x,
                     p.top + p.height, x, p.top + p.height + 5);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x,
                     p.top + p.height + 18, tick_label(t));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", p.left + p.width / 2,
                   p.top + p.height + 34, xml_escape(x_label));
  s += fmt::format(
      "<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 {0:.1f} {1:.1f})\">{2}</text>\n",
      p.left - 48, p.top + p.height / 2, xml_escape(y_label));
  return s;
}

// A polyline with a dot per point.
std::string series(const Panel& p, const std::vector<double>& xs, const std::vector<double>& ys,
                   const std::string& colour) {
  std::string points;
  std::string dots;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(ys[i])) continue;
    points += fmt::format("{:.1f},{:.1f} ", p.px(xs[i]), p.py(ys[i]));
    dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", p.px(xs[i]), p.py(ys[i]),
                        colour);
  }
  return fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", points, colour) +
         dots;
}

std::string legend_entry(double x, double y, const std::string& colour, const std::string& label) {
  return fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>\n"
                     "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                     x, y, x + 20, y, colour, x + 26, y + 4, xml_escape(label));
}

// Range of the finite values, padded by 5%.
std::pair<double, double> range_of(const std::vector<double>& values, bool from_zero) {
  double lo = from_zero ? 0.0 : INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi - lo < 1e-9) hi = lo + 1;
  const double pad = 0.05 * (hi - lo);
  return {from_zero ? lo : lo - pad, hi + pad};
}

}  // namespace

std::string curve_svg(const std::vector<EpochMetrics>& metrics) {
  constexpr double W = 640, H = 580;
  std::vector<double> epochs, train, val, bleu;
  for (const EpochMetrics& m : metrics) {
    epochs.push_back(static_cast<double>(m.epoch));
    train.push_back(m.train_loss);
    val.push_back(m.val_loss);
    bleu.push_back(m.val_bleu);
  }
  const double x_lo = epochs.empty() ? 0 : epochs.front() - 0.5;
  const double x_hi = epochs.empty() ? 1 : epochs.back() + 0.5;
  std::vector<double> x_ticks;
  for (double t : nice_ticks(x_lo, x_hi, 8))
    if (t == std::floor(t) && t >= 1) x_ticks.push_back(t);  // whole epochs only

  std::vector<double> losses = train;
  losses.insert(losses.end(), val.begin(), val.end());
  const auto [loss_lo, loss_hi] = range_of(losses, false);
  const auto [bleu_lo, bleu_hi] = range_of(bleu, false);  // BLEU's own range: from 0, the changes late in training flatten
  const Panel top{80, 60, 520, 220, x_lo, x_hi, loss_lo, loss_hi};
  const Panel bottom{80, 370, 520, 150, x_lo, x_hi, bleu_lo, bleu_hi};

  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Training curve</text>\n",
      W, H, W, H, W / 2);
  // Legends sit above their panels, where no point can be.
  s += axes(top, x_ticks, nice_ticks(loss_lo, loss_hi), "epoch", "loss (per target token)");
  s += series(top, epochs, train, "#1f77b4");
  s += series(top, epochs, val, "#d62728");
  s += legend_entry(top.left, top.top - 12, "#1f77b4", "train loss");
  s += legend_entry(top.left + 130, top.top - 12, "#d62728", "validation loss");
  s += axes(bottom, x_ticks, nice_ticks(bleu_lo, bleu_hi, 4), "epoch", "BLEU");
  s += series(bottom, epochs, bleu, "#2ca02c");
  s += legend_entry(bottom.left, bottom.top - 12, "#2ca02c", "validation BLEU");
  // The best epoch (the one best.safetensors holds): a ring on its point, a dashed line through both panels.
  const auto best = std::max_element(bleu.begin(), bleu.end());
  if (best != bleu.end() && std::isfinite(*best)) {
    const size_t i = static_cast<size_t>(best - bleu.begin());
    const double x = bottom.px(epochs[i]);
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n"
        "<circle cx=\"{0:.1f}\" cy=\"{3:.1f}\" r=\"7\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\"/>\n"
        "<text x=\"{4:.1f}\" y=\"{5:.1f}\">best: {6:.2f} at epoch {7}</text>\n",
        x, top.top, bottom.top + bottom.height, bottom.py(bleu[i]), bottom.left + 170, bottom.top - 8, bleu[i],
        metrics[i].epoch);
  }
  s += "</svg>\n";
  return s;
}

std::string attention_svg(const std::vector<std::string>& source_words, const std::vector<std::string>& target_words,
                          const Tensor& weights, const std::string& title) {
  const auto rows = static_cast<int64_t>(target_words.size()), cols = static_cast<int64_t>(source_words.size());
  if (weights.ndim() != 2 || weights.size(0) != rows || weights.size(1) != cols)
    fail("attention_svg: weights must be (targets, sources) = ({}, {}), got {}", rows, cols, weights.shape().str());
  return matrix_svg(source_words, target_words, weights, title, "weight");
}

std::string matrix_svg(const std::vector<std::string>& column_labels, const std::vector<std::string>& row_labels,
                       const Tensor& values, const std::string& title, const std::string& scale_label) {
  const int64_t rows = static_cast<int64_t>(row_labels.size());
  const int64_t cols = static_cast<int64_t>(column_labels.size());
  if (values.ndim() != 2 || values.size(0) != rows || values.size(1) != cols)
    fail("matrix_svg: values must be (rows, columns) = ({}, {}), got {}", rows, cols, values.shape().str());
  const std::vector<double> w = tg::contiguous_values(values).to_vector<double>();
  constexpr double cell = 28, char_width = 7.5, title_height = 30, scale_width = 70;
  size_t longest_column = 1, longest_row = 1;
  for (const std::string& s : column_labels) longest_column = std::max(longest_column, s.size());
  for (const std::string& t : row_labels) longest_row = std::max(longest_row, t.size());
  const double left = 16 + char_width * static_cast<double>(longest_row);
  // Column labels run up and to the right at 60°: L characters rise L·w·sin 60° and reach L·w·cos 60° right.
  const double top = title_height + 16 + char_width * static_cast<double>(longest_column) * 0.87;
  const double grid_right = left + cell * static_cast<double>(cols);
  const double width = std::max({grid_right + 16 + char_width * static_cast<double>(longest_column) * 0.5,
                                 grid_right + scale_width, 24 + 8.5 * static_cast<double>(title.size())});
  const double grid_height = cell * static_cast<double>(rows);
  const double bar_height = std::max(grid_height, 120.0);
  const double height = top + bar_height + 34;

  std::string s = svg_document_start(width, height, title, 13);
  for (int64_t j = 0; j < cols; ++j) {
    const double x = left + cell * (static_cast<double>(j) + 0.5), y = top - 6;
    s += fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" transform=\"rotate(-60 {0:.1f} {1:.1f})\">{2}</text>\n", x,
                     y, xml_escape(column_labels[static_cast<size_t>(j)]));
  }
  for (int64_t i = 0; i < rows; ++i) {
    const double y = top + cell * (static_cast<double>(i) + 0.5) + 4;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6, y,
                     xml_escape(row_labels[static_cast<size_t>(i)]));
    for (int64_t j = 0; j < cols; ++j) {
      const double v = std::clamp(w[static_cast<size_t>(i * cols + j)], 0.0, 1.0);
      const int grey = static_cast<int>(std::lround(255 * v));
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"rgb({},{},{})\">"
          "<title>{:.3f}</title></rect>\n",
          left + cell * static_cast<double>(j), top + cell * static_cast<double>(i), cell, cell, grey, grey, grey, v);
    }
  }
  // The colour scale: black (weight 0) at the bottom to white (1) at the top, framed so white shows.
  const double bar_x = grid_right + 20;
  s += fmt::format(
      "<defs><linearGradient id=\"weight-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
      "<stop offset=\"0\" stop-color=\"rgb(0,0,0)\"/><stop offset=\"1\" stop-color=\"rgb(255,255,255)\"/>"
      "</linearGradient></defs>\n"
      "<rect class=\"scale\" x=\"{0:.1f}\" y=\"{1:.1f}\" width=\"14\" height=\"{2:.1f}\" fill=\"url(#weight-scale)\" "
      "stroke=\"#333\"/>\n"
      "<text x=\"{3:.1f}\" y=\"{4:.1f}\">1</text>\n"
      "<text x=\"{3:.1f}\" y=\"{5:.1f}\">0.5</text>\n"
      "<text x=\"{3:.1f}\" y=\"{6:.1f}\">0</text>\n"
      "<text x=\"{0:.1f}\" y=\"{7:.1f}\">{8}</text>\n",
      bar_x, top, bar_height, bar_x + 18, top + 9, top + bar_height / 2 + 4, top + bar_height, top + bar_height + 20,
      xml_escape(scale_label));
  s += "</svg>\n";
  return s;
}

}  // namespace tg::plot
