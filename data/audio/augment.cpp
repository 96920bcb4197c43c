#include "data/audio/augment.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "core/error.h"
#include "data/audio/fft.h"

namespace tg::audio {

namespace {

constexpr int64_t kPhases = 256;
constexpr double kZeroCrossings = 8, kKaiserBeta = 8.6, kRollOff = 0.95;
constexpr int64_t kLanes = 8;   // change_speed's taps come in groups of this many

// I0(x) = Σ_k ((x/2)^k / k!)², the modified Bessel function of order 0 (x ≤ 10 converges in < 40 terms).
double bessel_i0(double x) {
  double term = 1, sum = 1;
  for (int k = 1; k < 60 && term > 1e-17 * sum; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

// The Kaiser window w(r) = I0(β √(1 − r²)) / I0(β) for |r| < 1, tabulated at 4096 steps and read by
// linear interpolation (every call of change_speed builds a kernel for its own factor).
double kaiser_window(double r) {
  constexpr int kSteps = 4096;
  static const std::vector<double> table = [] {
    std::vector<double> t(kSteps + 2, 0.0);
    for (int i = 0; i <= kSteps; ++i) {
      const double x = static_cast<double>(i) / kSteps;
      t[static_cast<size_t>(i)] = bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1 - x * x))) / bessel_i0(kKaiserBeta);
    }
    return t;
  }();
  const double at = std::abs(r) * kSteps;
  if (at >= kSteps) return 0.0;
  const size_t i = static_cast<size_t>(at);
  return table[i] + (at - static_cast<double>(i)) * (table[i + 1] - table[i]);
}

double mean_square(const float* x, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

void scale(std::vector<float>& x, double gain) {
  for (float& v : x) v = static_cast<float>(v * gain);
}

}  // namespace

Audio change_speed(const Audio& audio, double factor) {
  if (!(factor >= 0.5 && factor <= 2)) fail("change_speed: factor must be in [0.5, 2], got {}", factor);
  if (factor == 1) return audio;
  // Output sample n falls at input position n·factor; the kernel h(u) = 2fc sinc(2fc u) w(u / half_width)
  // is tabulated per phase (the position's fraction in steps of 1/kPhases) over 2R taps.
  const double cutoff = 0.5 * kRollOff * std::min(1.0, 1.0 / factor);  // cycles per input sample
  const double half_width = kZeroCrossings / (2 * cutoff);
  const int64_t reach = static_cast<int64_t>(std::ceil(half_width));
  const int64_t taps = (2 * reach + kLanes - 1) / kLanes * kLanes;  // whole vectors (the last taps 0)
  // sin(2πc·u) with u = tap − phase splits as sin(tap angle − phase angle): one sine and cosine per
  // tap and per phase instead of one per table entry (the table is made for every call).
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
  const int64_t in = static_cast<int64_t>(audio.samples.size());
  const int64_t out_count = static_cast<int64_t>(std::ceil(static_cast<double>(in) / factor));
  Audio out;
  out.sample_rate = audio.sample_rate;
  out.samples.resize(static_cast<size_t>(out_count));
  const float* x = audio.samples.data();
  for (int64_t n = 0; n < out_count; ++n) {
    const double position = static_cast<double>(n) * factor;
    const int64_t whole = static_cast<int64_t>(position);
    // Rounded half up (the fraction is ≥ 0); kPhases is the next sample's phase 0.
    const auto phase = static_cast<int64_t>((position - static_cast<double>(whole)) * kPhases + 0.5);
    const float* w = table.data() + phase * taps;
    const int64_t first = whole - reach + 1;
    float sum = 0;
    if (first >= 0 && first + taps <= in) {
      float lanes[kLanes] = {};  // kLanes running sums: one vector's worth, whatever the machine's width
      for (int64_t j = 0; j < taps; j += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) lanes[l] += x[first + j + l] * w[j + l];
      for (int64_t width = kLanes / 2; width > 0; width /= 2)
        for (int64_t l = 0; l < width; ++l) lanes[l] += lanes[l + width];
      sum = lanes[0];
    } else {
      for (int64_t j = 0; j < taps; ++j)
        if (first + j >= 0 && first + j < in) sum += x[first + j] * w[j];
    }
    out.samples[static_cast<size_t>(n)] = sum;
  }
  return out;
}

const char* noise_colour_name(NoiseColour colour) {
  switch (colour) {
    case NoiseColour::white: return "white";
    case NoiseColour::pink: return "pink";
    case NoiseColour::brown: return "brown";
  }
  return "?";
}

std::vector<float> coloured_noise(int64_t n, NoiseColour colour, std::mt19937_64& rng) {
  if (n <= 0) return {};
  const int64_t size = detail::fft_size_for(std::max<int64_t>(n, 2));
  // Each bin's parts uniform in [-√3, √3] (variance 1, as a normal's: the inverse FFT sums thousands of
  // bins, so the samples come out normal all the same), times k^(-α/2). The bits come from splitmix64
  // (Steele, Lea & Flood 2014) seeded by one draw of `rng`: a third of the Mersenne Twister's cost.
  uint64_t state = rng();
  auto bits = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  auto part = [&bits] { return static_cast<float>((static_cast<double>(bits() >> 11) * 0x1.0p-53 * 2 - 1) * std::numbers::sqrt3); };
  std::vector<std::complex<float>> spectrum(static_cast<size_t>(size / 2 + 1));
  for (int64_t k = 1; k <= size / 2; ++k) {
    const float re = part(), im = part();
    const double slope = colour == NoiseColour::white ? 1.0 : colour == NoiseColour::pink ? 1 / std::sqrt(static_cast<double>(k)) : 1.0 / static_cast<double>(k);
    spectrum[static_cast<size_t>(k)] = std::complex<float>(re, im) * static_cast<float>(slope);
  }
  std::vector<float> noise = detail::inverse_real_fft(spectrum, size);
  noise.resize(static_cast<size_t>(n));
  const double power = mean_square(noise.data(), noise.size());
  if (power > 0) scale(noise, 1 / std::sqrt(power));
  return noise;
}

void add_noise(Audio& audio, const std::vector<float>& noise, double snr_db) {
  if (noise.size() < audio.samples.size())
    fail("add_noise: {} noise samples for {} audio samples", noise.size(), audio.samples.size());
  if (!std::isfinite(snr_db)) fail("add_noise: the SNR must be a finite number of dB, got {}", snr_db);
  const size_t n = audio.samples.size();
  const double signal = mean_square(audio.samples.data(), n), power = mean_square(noise.data(), n);
  if (signal == 0 || power == 0) return;
  const double gain = std::sqrt(signal / (power * std::pow(10.0, snr_db / 10)));
  for (size_t i = 0; i < n; ++i) audio.samples[i] = static_cast<float>(audio.samples[i] + gain * noise[i]);
}

std::vector<float> room_impulse_response(int sample_rate, double rt60, double direct_to_reverb_db, double pre_delay,
                                         std::mt19937_64& rng) {
  if (sample_rate <= 0 || !(rt60 > 0 && rt60 <= 10) || !(pre_delay >= 0 && pre_delay <= 1) || !std::isfinite(direct_to_reverb_db))
    fail("room_impulse_response: need a positive rate, rt60 in (0, 10] s, pre_delay in [0, 1] s and a finite "
         "direct-to-reverberant ratio; got {} Hz, {} s, {} s, {} dB",
         sample_rate, rt60, pre_delay, direct_to_reverb_db);
  const int64_t delay = std::max<int64_t>(1, std::llround(pre_delay * sample_rate));
  const int64_t tail = std::max<int64_t>(1, std::llround(rt60 * sample_rate));
  std::vector<float> response(static_cast<size_t>(delay + tail), 0.0f);
  response[0] = 1;
  std::normal_distribution<double> normal;
  const double decay = std::pow(10.0, -3.0 / static_cast<double>(tail));  // per sample: 10^(-3 t / tail) at t
  double energy = 0, envelope = 1;
  for (int64_t t = 0; t < tail; ++t, envelope *= decay) {
    const double v = normal(rng) * envelope;
    response[static_cast<size_t>(delay + t)] = static_cast<float>(v);
    energy += v * v;
  }
  const double gain = std::sqrt(std::pow(10.0, -direct_to_reverb_db / 10) / energy);
  for (int64_t t = 0; t < tail; ++t) response[static_cast<size_t>(delay + t)] *= static_cast<float>(gain);
  return response;
}

Audio reverberate(const Audio& audio, const std::vector<float>& impulse_response) {
  if (impulse_response.empty()) fail("reverberate: the impulse response is empty");
  const int64_t n = static_cast<int64_t>(audio.samples.size());
  if (n == 0) return audio;
  const int64_t length = static_cast<int64_t>(impulse_response.size());
  const int64_t size = detail::fft_size_for(n + length - 1);
  std::vector<std::complex<float>> x = detail::real_fft(audio.samples.data(), n, size);
  const std::vector<std::complex<float>> h = detail::real_fft(impulse_response.data(), length, size);
  for (size_t k = 0; k < x.size(); ++k) x[k] *= h[k];
  Audio out{detail::inverse_real_fft(x, size), audio.sample_rate};
  out.samples.resize(static_cast<size_t>(n));
  const double before = mean_square(audio.samples.data(), audio.samples.size());
  const double after = mean_square(out.samples.data(), out.samples.size());
  scale(out.samples, after > 0 ? std::sqrt(before / after) : 0.0);  // also undoes the inverse FFT's factor of `size`
  return out;
}

}  // namespace tg::audio
