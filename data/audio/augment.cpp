#include "data/audio/augment.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "core/services/error.h"
#include "data/audio/fft.h"
#include "data/audio/resample.h"

namespace tg::audio {

namespace {

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
  Audio out;
  out.sample_rate = audio.sample_rate;
  out.samples = interpolate(audio.samples, factor, 8);  // output sample n is the input at n·factor
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
