#include "data/audio/resample.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.h"

namespace tg::audio {

namespace {

constexpr double kZeroCrossings = 16;
constexpr double kKaiserBeta = 8.6;
constexpr double kRollOff = 0.95;

// The Kaiser window at x in [-1, 1].
double kaiser(double x) {
  return std::cyl_bessel_i(0.0, kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - x * x))) / std::cyl_bessel_i(0.0, kKaiserBeta);
}

}  // namespace

Audio resample(const Audio& audio, int rate) {
  if (rate <= 0 || audio.sample_rate <= 0)
    fail("resample: rates must be positive, got {} Hz to {} Hz", audio.sample_rate, rate);
  if (rate == audio.sample_rate) return audio;
  const double step = static_cast<double>(audio.sample_rate) / rate;  // input samples per output sample
  // Cut-off in cycles per input sample: half the lower rate's, rolled off.
  const double cutoff = 0.5 * kRollOff * std::min(1.0, 1.0 / step);
  const double half_width = kZeroCrossings / (2.0 * cutoff);  // input samples each side
  const int64_t in = static_cast<int64_t>(audio.samples.size());
  const int64_t out_count = static_cast<int64_t>(std::ceil(static_cast<double>(in) / step));
  // h(u) = 2 fc sinc(2 fc u) w(u / half_width), tabulated at kTableSteps points per input sample for
  // u in [0, half_width] (it is even) and read by linear interpolation.
  constexpr int kTableSteps = 512;
  std::vector<double> table(static_cast<size_t>(std::ceil(half_width * kTableSteps)) + 2);
  for (size_t i = 0; i < table.size(); ++i) {
    const double u = static_cast<double>(i) / kTableSteps;
    const double x = 2.0 * cutoff * u;
    const double sinc = x == 0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
    table[i] = u > half_width ? 0.0 : 2.0 * cutoff * sinc * kaiser(u / half_width);
  }
  Audio out;
  out.sample_rate = rate;
  out.samples.resize(static_cast<size_t>(out_count));
  for (int64_t n = 0; n < out_count; ++n) {
    const double centre = static_cast<double>(n) * step;  // where output sample n falls, in input samples
    const int64_t first = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(centre - half_width)));
    const int64_t last = std::min<int64_t>(in - 1, static_cast<int64_t>(std::floor(centre + half_width)));
    double sum = 0;
    for (int64_t k = first; k <= last; ++k) {
      const double position = std::abs(static_cast<double>(k) - centre) * kTableSteps;
      const size_t i = static_cast<size_t>(position);
      const double fraction = position - static_cast<double>(i);
      sum += audio.samples[static_cast<size_t>(k)] * (table[i] + fraction * (table[i + 1] - table[i]));
    }
    out.samples[static_cast<size_t>(n)] = static_cast<float>(sum);
  }
  return out;
}

}  // namespace tg::audio
