// bar_chart_svg and roofline_svg (plot/svg.h): the speed chapter's pictures.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/services/error.h"
#include "plot/svg.h"
#include "plot/svg_document.h"

namespace tg::plot {

std::string bar_chart_svg(const std::vector<Bar>& bars, const std::string& title, const std::string& unit,
                          double reference, const std::string& reference_label) {
  if (bars.empty()) fail("bar_chart_svg: no bars");
  double largest = reference > 0 ? reference : 0;
  size_t longest = 1;
  for (const Bar& b : bars) {
    if (!(b.value >= 0) || !std::isfinite(b.value))
      fail("bar_chart_svg: bar '{}' has value {}, expected a finite value >= 0", b.label, b.value);
    largest = std::max(largest, b.value);
    longest = std::max(longest, b.label.size());
  }
  if (largest <= 0) largest = 1;
  constexpr double row = 26, bar = 18, plot_width = 420, top = 44;
  const double left = 16 + 7.0 * static_cast<double>(longest);
  const double width = left + plot_width + 90, height = top + row * static_cast<double>(bars.size()) + 40;
  const double scale = plot_width / largest;
  std::string s = svg_document_start(width, height, title, 12);
  for (size_t i = 0; i < bars.size(); ++i) {
    const double y = top + row * static_cast<double>(i);
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n"
        "<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.0f}\" fill=\"#4a7ab7\"/>\n"
        "<text x=\"{:.1f}\" y=\"{:.1f}\">{:.3g} {}</text>\n",
        left - 6, y + 13, xml_escape(bars[i].label), left, y, bars[i].value * scale, bar,
        left + bars[i].value * scale + 4, y + 13, bars[i].value, xml_escape(unit));
  }
  const double bottom = top + row * static_cast<double>(bars.size());
  if (reference > 0) {
    const double x = left + reference * scale;
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#c0392b\" stroke-dasharray=\"5,4\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"end\" fill=\"#c0392b\">{4}: {5:.3g} {6}</text>\n",
        x, top - 6, bottom, bottom + 18, xml_escape(reference_label), reference, xml_escape(unit));
  }
  s += "</svg>\n";
  return s;
}

std::string roofline_svg(double peak_gflops, double bandwidth_gbs, const std::vector<RooflinePoint>& points,
                         const std::string& title) {
  if (!(peak_gflops > 0) || !(bandwidth_gbs > 0))
    fail("roofline_svg: peak and bandwidth must be > 0, got {} GFLOP/s and {} GB/s", peak_gflops, bandwidth_gbs);
  // Log-log axes: intensity (FLOP per byte) across, GFLOP/s up; powers of 10 (and 2 across) ticked.
  double x_lo = 1.0 / 64, x_hi = 256, y_lo = 0.1, y_hi = peak_gflops * 2;
  for (const RooflinePoint& p : points) {
    if (!(p.intensity > 0) || !(p.gflops > 0))
      fail("roofline_svg: point '{}' must have intensity and GFLOP/s > 0, got {} and {}", p.label, p.intensity, p.gflops);
    x_lo = std::min(x_lo, p.intensity / 2), x_hi = std::max(x_hi, p.intensity * 2);
    y_lo = std::min(y_lo, p.gflops / 2);
  }
  constexpr double left = 70, top = 44, plot_w = 520, plot_h = 320;
  auto px = [&](double x) { return left + std::log(x / x_lo) / std::log(x_hi / x_lo) * plot_w; };
  auto py = [&](double y) { return top + plot_h - std::log(y / y_lo) / std::log(y_hi / y_lo) * plot_h; };
  std::string s = svg_document_start(left + plot_w + 30, top + plot_h + 60, title, 12);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", left, top,
                   plot_w, plot_h);
  for (double t = std::pow(10.0, std::ceil(std::log10(y_lo))); t <= y_hi; t *= 10)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n", left - 6, py(t) + 4, t);
  for (double t = std::pow(2.0, std::ceil(std::log2(x_lo))); t <= x_hi; t *= 4)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", px(t), top + plot_h + 16,
                     t < 1 ? fmt::format("1/{:g}", 1 / t) : fmt::format("{:g}", t));
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">FLOP per byte moved</text>\n",
                   left + plot_w / 2, top + plot_h + 36);
  s += fmt::format("<text x=\"16\" y=\"{:.1f}\" transform=\"rotate(-90 16 {:.1f})\" text-anchor=\"middle\">GFLOP/s</text>\n",
                   top + plot_h / 2, top + plot_h / 2);
  // The roof: bandwidth · intensity up to the ridge, the peak after it.
  const double ridge = peak_gflops / bandwidth_gbs;
  const double start_x = std::max(x_lo, y_lo / bandwidth_gbs);
  s += fmt::format(
      "<polyline class=\"roof\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{:.1f},{:.1f} {:.1f},{:.1f} "
      "{:.1f},{:.1f}\"/>\n",
      px(start_x), py(bandwidth_gbs * start_x), px(ridge), py(peak_gflops), px(x_hi), py(peak_gflops));
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#c0392b\">peak {:.3g} GFLOP/s</text>\n",
                   px(x_hi) - 4, py(peak_gflops) - 6, peak_gflops);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#c0392b\">memory {:.3g} GB/s</text>\n", px(start_x) + 6,
                   py(bandwidth_gbs * start_x) - 8, bandwidth_gbs);
  for (const RooflinePoint& p : points) {
    const bool right_half = px(p.intensity) > left + plot_w / 2;  // label on the side with room
    s += fmt::format(
        "<circle class=\"point\" cx=\"{0:.1f}\" cy=\"{1:.1f}\" r=\"4\" fill=\"#4a7ab7\"/>\n"
        "<text x=\"{2:.1f}\" y=\"{3:.1f}\" text-anchor=\"{6}\">{4} ({5:.3g})</text>\n",
        px(p.intensity), py(p.gflops), px(p.intensity) + (right_half ? -7 : 7), py(p.gflops) + (right_half ? 16 : 4),
        xml_escape(p.label), p.gflops, right_half ? "end" : "start");
  }
  s += "</svg>\n";
  return s;
}

}  // namespace tg::plot
