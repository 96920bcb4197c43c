#include "apps/speech/speech_svg.h"

#include <fmt/format.h>

#include <algorithm>

#include "plot/svg.h"  // xml_escape
#include "apps/speech/speech_data.h"
#include "apps/speech/speech_decode.h"

namespace tg::speech {

std::string alignment_svg(const tg::Tensor& features, const std::vector<float>& log_probs, int64_t out_frames,
                          int64_t stride, const std::string& title) {
  const int64_t frames = features.size(0), mels = features.size(1);
  const std::vector<float> f = features.to_vector<float>();
  const auto [lo_it, hi_it] = std::minmax_element(f.begin(), f.end());
  const double lo = *lo_it, span = std::max(1e-6, static_cast<double>(*hi_it) - lo);
  constexpr double kPixel = 3, kLeft = 50, kTop = 70;  // a frame is 3 px wide, a mel channel 3 px high
  const double width = kLeft + frames * kPixel + 20, height = kTop + mels * kPixel + 40;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"20\" font-size=\"14\">{}</text>\n",
      width, height, kLeft, tg::plot::xml_escape(title));
  // The spectrogram, low channels at the bottom; two mel channels per rect row to keep the file small.
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t m = 0; m < mels; m += 2) {
      double v = 0;
      const int64_t rows = std::min<int64_t>(2, mels - m);
      for (int64_t k = 0; k < rows; ++k) v += f[static_cast<size_t>(t * mels + m + k)];
      const int grey = static_cast<int>(255 * std::clamp((v / rows - lo) / span, 0.0, 1.0));
      svg += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"rgb({},{},{})\"/>\n",
                         kLeft + t * kPixel, kTop + (mels - m - rows) * kPixel, kPixel, rows * kPixel, grey, grey, grey);
    }
  // The characters where the greedy CTC path starts emitting them.
  for (const tg::CtcEmission& e : greedy_emissions(log_probs, out_frames, kClasses)) {
    const double x = kLeft + (static_cast<double>(e.frame * stride) + 0.5) * kPixel;
    const std::string c = decode_ids({e.label});
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.0f}\" x2=\"{0:.1f}\" y2=\"{2:.0f}\" stroke=\"#c03030\" stroke-width=\"1\"/>\n"
                       "<text x=\"{0:.1f}\" y=\"{3:.0f}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#c03030\">{4}</text>\n",
                       x, kTop - 18, kTop + mels * kPixel, kTop - 22, c == " " ? "␣" : tg::plot::xml_escape(c));
  }
  svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" font-size=\"11\">time → (a column is a 10 ms frame)</text>\n",
                     kLeft, kTop + mels * kPixel + 20);
  const double middle = kTop + mels * kPixel / 2;
  svg += fmt::format("<text x=\"30\" y=\"{0:.0f}\" font-size=\"11\" text-anchor=\"middle\" "
                     "transform=\"rotate(-90 30 {0:.0f})\">mel channel →</text>\n",
                     middle);
  return svg + "</svg>\n";
}

}  // namespace tg::speech
