#include "data/audio/resample.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/services/error.h"

namespace tg::audio {

namespace {

constexpr int64_t kPhases = 256;
constexpr double kKaiserBeta = 8.6, kRollOff = 0.95;
constexpr int64_t kLanes = 8;  // taps come in groups of this many

// The Kaiser window w(r) = I0(β √(1 − r²)) / I0(β) for |r| < 1 (0 beyond), tabulated once at 4096 steps and
// read by linear interpolation (every call builds a kernel for its own step).
double kaiser_window(double r) {
  constexpr int kSteps = 4096;
  static const std::vector<double> table = [] {
    std::vector<double> t(kSteps + 2, 0.0);
    for (int i = 0; i <= kSteps; ++i) {
      const double x = static_cast<double>(i) / kSteps;
      t[static_cast<size_t>(i)] =
          std::cyl_bessel_i(0.0, kKaiserBeta * std::sqrt(std::max(0.0, 1 - x * x))) / std::cyl_bessel_i(0.0, kKaiserBeta);
    }
    return t;
  }();
  const double at = std::abs(r) * kSteps;
  if (at >= kSteps) return 0.0;
  const size_t i = static_cast<size_t>(at);
  return table[i] + (at - static_cast<double>(i)) * (table[i + 1] - table[i]);
}

}  // namespace

std::vector<float> interpolate(const std::vector<float>& samples, double step, int zero_crossings) {
  if (!(step > 0) || zero_crossings < 1)
    fail("interpolate: the step must be positive and the zero crossings at least 1, got {} and {}", step, zero_crossings);
  // The kernel h(u) = 2fc sinc(2fc u) w(u / half_width), tabulated per phase (the position's fraction in steps
  // of 1/kPhases) over 2R taps.
  const double cutoff = 0.5 * kRollOff * std::min(1.0, 1.0 / step);  // cycles per input sample
  const double half_width = zero_crossings / (2 * cutoff);
  const int64_t reach = static_cast<int64_t>(std::ceil(half_width));
  const int64_t taps = (2 * reach + kLanes - 1) / kLanes * kLanes;  // whole vectors (the last taps 0)
  // sin(2πc·u) with u = tap − phase splits as sin(tap angle − phase angle): one sine and cosine per tap and per
  // phase instead of one per table entry (the table is made for every call).
  std::vector<double> tap_sin(static_cast<size_t>(2 * reach)), tap_cos(tap_sin.size());
  for (int64_t j = 0; j < 2 * reach; ++j) {
    const double angle = 2 * std::numbers::pi * cutoff * static_cast<double>(j - reach + 1);
    tap_sin[static_cast<size_t>(j)] = std::sin(angle), tap_cos[static_cast<size_t>(j)] = std::cos(angle);
  }
  std::vector<float> table(static_cast<size_t>((kPhases + 1) * taps), 0.0f);
  for (int64_t p = 0; p <= kPhases; ++p) {
    const double phase_angle = 2 * std::numbers::pi * cutoff * static_cast<double>(p) / kPhases;
    const double phase_sin = std::sin(phase_angle), phase_cos = std::cos(phase_angle);
    for (int64_t j = 0; j < 2 * reach; ++j) {
      const double u = static_cast<double>(j - reach + 1) - static_cast<double>(p) / kPhases;  // tap minus position
      const double x = 2 * cutoff * u;
      const double sine = tap_sin[static_cast<size_t>(j)] * phase_cos - tap_cos[static_cast<size_t>(j)] * phase_sin;
      const double sinc = x == 0 ? 1.0 : sine / (std::numbers::pi * x);
      table[static_cast<size_t>(p * taps + j)] = static_cast<float>(2 * cutoff * sinc * kaiser_window(u / half_width));
    }
  }
  const int64_t in = static_cast<int64_t>(samples.size());
  const int64_t out_count = static_cast<int64_t>(std::ceil(static_cast<double>(in) / step));
  std::vector<float> out(static_cast<size_t>(out_count));
  const float* x = samples.data();
  for (int64_t n = 0; n < out_count; ++n) {
    const double position = static_cast<double>(n) * step;
    const int64_t whole = static_cast<int64_t>(position);
    // Between two tabulated phases, by linear interpolation (nearest-phase rounding cost up to 7e-4 of a tone
    // at 3 kHz from 22.05 kHz); kPhases is the next sample's phase 0.
    const double at = (position - static_cast<double>(whole)) * kPhases;
    const auto phase = std::min<int64_t>(static_cast<int64_t>(at), kPhases - 1);
    const float fraction = static_cast<float>(at - static_cast<double>(phase));
    const float* w0 = table.data() + phase * taps;
    const float* w1 = w0 + taps;
    const int64_t first = whole - reach + 1;
    float sum = 0;
    if (first >= 0 && first + taps <= in) {
      float lanes[kLanes] = {};  // kLanes running sums: one vector's worth, whatever the machine's width
      for (int64_t j = 0; j < taps; j += kLanes)
        for (int64_t l = 0; l < kLanes; ++l)
          lanes[l] += x[first + j + l] * (w0[j + l] + fraction * (w1[j + l] - w0[j + l]));
      for (int64_t width = kLanes / 2; width > 0; width /= 2)
        for (int64_t l = 0; l < width; ++l) lanes[l] += lanes[l + width];
      sum = lanes[0];
    } else {
      for (int64_t j = 0; j < taps; ++j)
        if (first + j >= 0 && first + j < in) sum += x[first + j] * (w0[j] + fraction * (w1[j] - w0[j]));
    }
    out[static_cast<size_t>(n)] = sum;
  }
  return out;
}

Audio resample(const Audio& audio, int rate) {
  if (rate <= 0 || audio.sample_rate <= 0)
    fail("resample: rates must be positive, got {} Hz to {} Hz", audio.sample_rate, rate);
  if (rate == audio.sample_rate) return audio;
  Audio out;
  out.sample_rate = rate;
  out.samples = interpolate(audio.samples, static_cast<double>(audio.sample_rate) / rate, 16);
  return out;
}

}  // namespace tg::audio
