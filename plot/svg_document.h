#pragma once
// The opening a titled chart starts with: the <svg> element (width × height,
// sans-serif at `font_size`), a white background, and the title, escaped, at
// the top left. Internal to plot/ (not installed).
#include <string>

namespace tg::plot {

std::string svg_document_start(double width, double height, const std::string& title, int font_size);

}  // namespace tg::plot
