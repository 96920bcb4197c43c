// filter_grid_svg (plot/svg.h): a convolution's small kernels as coloured cells.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/services/error.h"
#include "plot/svg.h"
#include "plot/svg_document.h"

namespace tg::plot {

namespace {
// v in [-1, 1] -> white at 0, towards red (positive) or blue (negative).
std::string diverging_colour(double v) {
  const int fade = static_cast<int>(std::lround(255 * (1 - std::min(std::abs(v), 1.0))));
  return v >= 0 ? fmt::format("rgb(255,{0},{0})", fade) : fmt::format("rgb({0},{0},255)", fade);
}
}  // namespace

std::string filter_grid_svg(const Tensor& filters, int64_t columns, const std::string& title) {
  if (filters.ndim() != 3) fail("filter_grid_svg: filters must be (N, KH, KW), got {}", filters.shape().str());
  if (columns < 1) fail("filter_grid_svg: columns must be >= 1, got {}", columns);
  const int64_t count = filters.size(0), kh = filters.size(1), kw = filters.size(2);
  const std::vector<double> w = tg::contiguous_values(filters).to_vector<double>();
  constexpr double cell = 16, gap = 10, title_height = 34, margin = 12;
  const int64_t rows = (count + columns - 1) / columns, shown_columns = std::min(columns, std::max<int64_t>(count, 1));
  const double tile_w = cell * static_cast<double>(kw) + gap, tile_h = cell * static_cast<double>(kh) + gap + 14;
  const double width = std::max(2 * margin + tile_w * static_cast<double>(shown_columns), 24 + 8.5 * static_cast<double>(title.size()));
  const double height = title_height + tile_h * static_cast<double>(rows) + margin;
  std::string s = svg_document_start(width, height, title, 11);
  const int64_t per_filter = kh * kw;
  for (int64_t f = 0; f < count; ++f) {
    const double x0 = margin + tile_w * static_cast<double>(f % columns);
    const double y0 = title_height + tile_h * static_cast<double>(f / columns);
    double largest = 0;
    for (int64_t i = 0; i < per_filter; ++i) largest = std::max(largest, std::abs(w[static_cast<size_t>(f * per_filter + i)]));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x0, y0 + 10, f);
    for (int64_t r = 0; r < kh; ++r)
      for (int64_t c = 0; c < kw; ++c) {
        const double v = w[static_cast<size_t>(f * per_filter + r * kw + c)];
        s += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"{}\" stroke=\"#ccc\">"
            "<title>{:.4f}</title></rect>\n",
            x0 + cell * static_cast<double>(c), y0 + 14 + cell * static_cast<double>(r), cell, cell,
            diverging_colour(largest > 0 ? v / largest : 0.0), v);
      }
  }
  s += "</svg>\n";
  return s;
}

}  // namespace tg::plot
