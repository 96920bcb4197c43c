// Training's audio augmentation, each change checked for what it promises:
// a speed factor divides the duration and multiplies the frequencies by it;
// noise has its colour's spectrum and the asked power ratio; a room's impulse
// response decays and weighs as asked; the FFTs behind them equal the DFT at
// the sizes they pick; log_mel's time stretch moves frames, not frequencies,
// and its frequency warp moves the filters, not the frames; the recogniser's
// augmented features are its plain ones with everything off, the same bits
// for the same seed, and each change switched off leaves the others' draws
// alone.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "apps/speech/audio_augment.h"
#include "apps/speech/speech_data.h"
#include "data/audio/fft.h"
#include "tapegrad.h"
#include "tapegrad_audio.h"

using tg::audio::Audio;

namespace {

Audio tone(double hz, int64_t count, double amplitude = 0.5, int rate = 16000) {
  Audio a;
  a.sample_rate = rate;
  for (int64_t n = 0; n < count; ++n) a.samples.push_back(static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * hz * n / rate)));
  return a;
}

double mean_square(const std::vector<float>& x, size_t from = 0, size_t to = 0) {
  if (to == 0) to = x.size();
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum / static_cast<double>(to - from);
}

// The frequency of a tone, from its upward zero crossings between samples `from` and `to`.
double frequency_of(const Audio& a, size_t from, size_t to) {
  double first = -1, last = -1;
  int64_t crossings = 0;
  for (size_t n = from; n + 1 < to; ++n)
    if (a.samples[n] <= 0 && a.samples[n + 1] > 0) {
      const double at = static_cast<double>(n) + a.samples[n] / (a.samples[n] - a.samples[n + 1]);
      if (first < 0) first = at;
      last = at;
      ++crossings;
    }
  return (crossings - 1) * a.sample_rate / (last - first);
}

// Power in [lo, hi) Hz of x (its periodogram), at 16 kHz.
double band_power(const std::vector<float>& x, double lo, double hi) {
  const size_t n = x.size();
  double sum = 0;
  for (size_t k = static_cast<size_t>(lo * n / 16000); k < static_cast<size_t>(hi * n / 16000); ++k) {
    double re = 0, im = 0;
    for (size_t t = 0; t < n; ++t) {
      re += x[t] * std::cos(2 * std::numbers::pi * k * t / n);
      im -= x[t] * std::sin(2 * std::numbers::pi * k * t / n);
    }
    sum += re * re + im * im;
  }
  return sum;
}

// The mel channel with the most energy in one frame of (frames, channels) features.
int64_t loudest_band(const tg::Tensor& features, int64_t frame) {
  const std::vector<float> row = tg::select(features, 0, frame).to_vector<float>();
  return std::max_element(row.begin(), row.end()) - row.begin();
}

}  // namespace

TEST_CASE("change_speed: the duration divided by the factor, every frequency multiplied by it; 1 is the same audio") {
  const Audio a = tone(1000, 16000);
  for (const double factor : {0.9, 0.95, 1.07, 1.1, 1.25}) {
    CAPTURE(factor);
    const Audio b = tg::audio::change_speed(a, factor);
    CHECK(b.sample_rate == 16000);
    CHECK(b.samples.size() == static_cast<size_t>(std::ceil(16000 / factor)));
    CHECK(frequency_of(b, 100, b.samples.size() - 100) == doctest::Approx(1000 * factor).epsilon(1e-4));
    CHECK(std::sqrt(2 * mean_square(b.samples, 100, b.samples.size() - 100)) == doctest::Approx(0.5).epsilon(5e-3));
  }
  // Faster playback would lift 7.8 kHz to 9.75 kHz, past 16 kHz's Nyquist frequency: removed (by 49 dB), not
  // folded back to 6.25 kHz.
  const Audio high = tg::audio::change_speed(tone(7800, 16000), 1.25);
  CHECK(mean_square(high.samples, 100, high.samples.size() - 100) < 1.6e-5 * 0.125);  // the tone's is 0.125: 48 dB down
  CHECK(tg::audio::change_speed(a, 1).samples == a.samples);
  CHECK_THROWS_WITH_AS(tg::audio::change_speed(a, 3), doctest::Contains("factor must be in [0.5, 2], got 3"), tg::Error);
}

TEST_CASE("coloured_noise: power 1; white flat, pink equal per octave, brown halving per octave; the seed fixes it") {
  const int64_t n = 4096;  // a power of two: the drawn spectrum is the noise's own
  for (const auto colour : {tg::audio::NoiseColour::white, tg::audio::NoiseColour::pink, tg::audio::NoiseColour::brown}) {
    CAPTURE(tg::audio::noise_colour_name(colour));
    // Octave powers averaged over 8 draws: 500-1000, 1000-2000, 2000-4000 Hz.
    double octave[3] = {0, 0, 0};
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      std::mt19937_64 rng(seed);
      const std::vector<float> noise = tg::audio::coloured_noise(n, colour, rng);
      REQUIRE(noise.size() == static_cast<size_t>(n));
      CHECK(mean_square(noise) == doctest::Approx(1.0).epsilon(1e-5));
      for (int o = 0; o < 3; ++o) octave[o] += band_power(noise, 500.0 * (1 << o), 1000.0 * (1 << o));
    }
    // Expected power ratio of one octave to the next: white 2 (twice the bins), pink 1, brown 1/2.
    const double step = colour == tg::audio::NoiseColour::white ? 2 : colour == tg::audio::NoiseColour::pink ? 1 : 0.5;
    CHECK(octave[1] / octave[0] == doctest::Approx(step).epsilon(0.15));
    CHECK(octave[2] / octave[1] == doctest::Approx(step).epsilon(0.15));
  }
  std::mt19937_64 a(7), b(7), c(8);
  const std::vector<float> first = tg::audio::coloured_noise(1000, tg::audio::NoiseColour::pink, a);
  CHECK(first == tg::audio::coloured_noise(1000, tg::audio::NoiseColour::pink, b));
  CHECK(first != tg::audio::coloured_noise(1000, tg::audio::NoiseColour::pink, c));
}

TEST_CASE("add_noise: the signal's power over the added noise's is the SNR asked; silence stays silent") {
  std::mt19937_64 rng(3);
  const std::vector<float> noise = tg::audio::coloured_noise(20000, tg::audio::NoiseColour::white, rng);
  for (const double snr : {-5.0, 0.0, 10.0, 27.5}) {
    CAPTURE(snr);
    const Audio clean = tone(440, 16000, 0.3);
    Audio noisy = clean;
    tg::audio::add_noise(noisy, noise, snr);
    std::vector<float> added(clean.samples.size());
    for (size_t i = 0; i < added.size(); ++i) added[i] = noisy.samples[i] - clean.samples[i];
    CHECK(10 * std::log10(mean_square(clean.samples) / mean_square(added)) == doctest::Approx(snr).epsilon(1e-4));
  }
  Audio silent = tone(440, 100, 0.0);
  tg::audio::add_noise(silent, noise, 10);
  CHECK(mean_square(silent.samples) == 0);
  Audio longer = tone(440, 30000);
  CHECK_THROWS_WITH_AS(tg::audio::add_noise(longer, noise, 10), doctest::Contains("20000 noise samples for 30000 audio samples"),
                       tg::Error);
}

TEST_CASE("room_impulse_response and reverberate: the direct sound, the delay, a tail as long, heavy and steep as asked") {
  std::mt19937_64 rng(5);
  const double rt60 = 0.5, ratio_db = 6, delay = 0.01;
  const std::vector<float> h = tg::audio::room_impulse_response(16000, rt60, ratio_db, delay, rng);
  REQUIRE(h.size() == static_cast<size_t>(160 + 8000));
  CHECK(h[0] == 1.0f);
  for (size_t t = 1; t < 160; ++t) CHECK(h[t] == 0.0f);
  double tail = 0;
  for (size_t t = 160; t < h.size(); ++t) tail += static_cast<double>(h[t]) * h[t];
  CHECK(10 * std::log10(1 / tail) == doctest::Approx(ratio_db).epsilon(1e-4));
  // 60 dB of amplitude over rt60: the energy of the tail's last tenth is ~10^-5.4 of its first tenth's.
  double head = 0, end = 0;
  for (size_t t = 0; t < 800; ++t) head += h[160 + t] * h[160 + t], end += h[160 + 7200 + t] * h[160 + 7200 + t];
  CHECK(10 * std::log10(head / end) == doctest::Approx(54).epsilon(0.1));
  // Convolving: the length and power kept; the direct sound alone leaves the audio as it was.
  const Audio a = tone(300, 16000, 0.4);
  const Audio wet = tg::audio::reverberate(a, h);
  CHECK(wet.samples.size() == a.samples.size());
  CHECK(mean_square(wet.samples) == doctest::Approx(mean_square(a.samples)).epsilon(1e-4));
  CHECK(wet.samples != a.samples);
  const Audio dry = tg::audio::reverberate(a, {1.0f});
  double worst = 0;
  for (size_t i = 0; i < a.samples.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(dry.samples[i] - a.samples[i])));
  CHECK(worst < 1e-5);
  CHECK_THROWS_WITH_AS(tg::audio::room_impulse_response(16000, 0, 6, 0.01, rng), doctest::Contains("rt60 in (0, 10] s"), tg::Error);
}

TEST_CASE("log_mel's time stretch: fewer frames by its factor, the same frequencies; 1 is the plain features") {
  const Audio a = tone(1000, 32000);
  const tg::audio::MelOptions plain;
  tg::audio::MelOptions stretched;
  stretched.time_stretch = 1.25;
  const tg::Tensor p = tg::audio::log_mel(a, plain), s = tg::audio::log_mel(a, stretched);
  CHECK(p.size(0) == (32000 - 400) / 160 + 1);
  CHECK(s.size(0) == static_cast<int64_t>((32000 - 400) / (160 * 1.25)) + 1);
  CHECK(loudest_band(p, 10) == loudest_band(s, 10));
  tg::audio::MelOptions one;
  one.time_stretch = 1;
  CHECK(tg::audio::log_mel(a, one).to_vector<float>() == p.to_vector<float>());
  stretched.time_stretch = 5;
  CHECK_THROWS_WITH_AS(tg::audio::log_mel(a, stretched), doctest::Contains("time_stretch must be in [0.25, 4], got 5"), tg::Error);
}

TEST_CASE("the FFTs: sizes of a few kinds an octave, at most a fifth past n; transforms equal the DFT and invert") {
  using tg::audio::detail::fft_size_for;
  for (int64_t n = 1; n <= 200000; n += n < 100 ? 1 : 997) {
    CAPTURE(n);
    const int64_t size = fft_size_for(n);
    int64_t odd = size;
    while (odd % 2 == 0 && odd > 30) odd /= 2;
    CHECK(size >= n);
    if (n <= 16) CHECK((size & (size - 1)) == 0);
    else CHECK((odd == 16 || odd == 18 || odd == 20 || odd == 24 || odd == 27 || odd == 30));
    if (n > 16) CHECK(size <= 1.25 * static_cast<double>(n));
  }
  std::mt19937_64 rng(3);
  std::vector<float> x(1100);
  for (float& v : x) v = std::normal_distribution<float>()(rng);
  const int64_t size = fft_size_for(1100);
  REQUIRE(size == 1152);
  const std::vector<std::complex<float>> spectrum = tg::audio::detail::real_fft(x.data(), 1100, size);
  REQUIRE(spectrum.size() == static_cast<size_t>(size / 2 + 1));
  for (const int64_t k : {0, 1, 17, 300, 576}) {
    std::complex<double> direct = 0;
    for (int64_t t = 0; t < 1100; ++t) direct += static_cast<double>(x[t]) * std::polar(1.0, -2 * std::numbers::pi * k * t / size);
    CHECK(std::abs(std::complex<double>(spectrum[k]) - direct) < 1e-3 * std::sqrt(1100.0));
  }
  const std::vector<float> back = tg::audio::detail::inverse_real_fft(spectrum, size);
  for (int64_t t = 0; t < size; ++t) CHECK(back[t] / size == doctest::Approx(t < 1100 ? x[t] : 0.0f).epsilon(1e-4).scale(1));
}

TEST_CASE("log_mel's frequency warp: the filters' frequencies times the warp below the knee, f_max kept, 1 is plain") {
  const int rate = 16000;
  for (const double warp : {0.9, 1.1}) {
    CAPTURE(warp);
    tg::audio::MelOptions warped;
    warped.frequency_warp = warp;
    const std::vector<double> plain = tg::audio::mel_centres(rate, {}), moved = tg::audio::mel_centres(rate, warped);
    const double knee = 0.85 * 8000 / std::max(warp, 1.0);
    for (size_t m = 0; m < plain.size(); ++m) {
      CAPTURE(m);
      if (plain[m] <= knee) CHECK(moved[m] == doctest::Approx(plain[m] * warp).epsilon(1e-12));
      else CHECK((moved[m] > moved[m - 1] && moved[m] < 8000));  // the line to f_max, still rising
    }
    // A tone at 1 kHz lands in the band whose warped centre is nearest 1 kHz: the plain band of 1 kHz / warp.
    const tg::Tensor features = tg::audio::log_mel(tone(1000, 16000), warped);
    const int64_t band = loudest_band(features, 20);
    CHECK(std::abs(moved[static_cast<size_t>(band)] - 1000) < 0.6 * (moved[static_cast<size_t>(band) + 1] - moved[static_cast<size_t>(band) - 1]));
    CHECK(band != loudest_band(tg::audio::log_mel(tone(1000, 16000), {}), 20));
  }
  tg::audio::MelOptions one;
  one.frequency_warp = 1;
  CHECK(tg::audio::log_mel(tone(440, 8000), one).to_vector<float>() == tg::audio::log_mel(tone(440, 8000), {}).to_vector<float>());
  one.frequency_warp = 3;
  CHECK_THROWS_WITH_AS(tg::audio::log_mel(tone(440, 8000), one), doctest::Contains("frequency_warp must be in [0.5, 2], got 3"), tg::Error);
}

TEST_CASE("augmented_features: off is features_of; the seed fixes every bit; speed moves the frames, pitch the bands") {
  std::mt19937_64 rng(11);
  Audio a = tone(700, 24000, 0.3);
  tg::audio::add_noise(a, tg::audio::coloured_noise(24000, tg::audio::NoiseColour::pink, rng), 20);
  const tg::Tensor plain = tg::speech::features_of(a);
  const tg::speech::AudioAugment off;
  CHECK(tg::speech::augmented_features(a, off, 42).to_vector<float>() == plain.to_vector<float>());

  const tg::speech::AudioAugment all{.speed = 0.1, .pitch = 2, .reverb = 1, .noise = 1};
  const std::vector<float> once = tg::speech::augmented_features(a, all, 42).to_vector<float>();
  CHECK(once == tg::speech::augmented_features(a, all, 42).to_vector<float>());
  CHECK(once != tg::speech::augmented_features(a, all, 43).to_vector<float>());

  // Speed: the frames divided by the drawn factor (to the frame); pitch alone keeps them.
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    CAPTURE(seed);
    const tg::speech::AudioAugment speed{.speed = 0.1};
    const tg::speech::AugmentDraw d = tg::speech::draw_augment(speed, seed);
    CHECK((d.speed >= 0.9 && d.speed <= 1.1));
    const int64_t frames = tg::speech::augmented_features(a, speed, seed).size(0);
    CHECK(std::abs(static_cast<double>(frames) - static_cast<double>(plain.size(0)) / d.speed) <= 1.5);
    const tg::speech::AudioAugment pitch{.pitch = 2};
    CHECK(std::abs(tg::speech::augmented_features(a, pitch, seed).size(0) - plain.size(0)) <= 1);
  }
  // Pitch: a tone's loudest mel band moves up with a pitch drawn upward.
  const tg::speech::AudioAugment pitch{.pitch = 4};
  uint64_t up = 1;
  while (tg::speech::draw_augment(pitch, up).pitch_semitones < 3) ++up;
  const Audio clean = tone(700, 24000, 0.3);
  CHECK(loudest_band(tg::speech::augmented_features(clean, pitch, up), 50) > loudest_band(tg::speech::features_of(clean), 50));

  // Switching one change off leaves the others' draws as they were.
  const tg::speech::AudioAugment no_noise{.speed = 0.1, .pitch = 2, .reverb = 1, .noise = 0};
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const tg::speech::AugmentDraw with = tg::speech::draw_augment(all, seed), without = tg::speech::draw_augment(no_noise, seed);
    CHECK(with.speed == without.speed);
    CHECK(with.pitch_semitones == without.pitch_semitones);
    CHECK(with.rt60 == without.rt60);
    CHECK(with.noise);
    CHECK_FALSE(without.noise);
  }
  // The formant warp is drawn after every other number: switching it on moves none of them.
  const tg::speech::AudioAugment warped{.speed = 0.1, .pitch = 2, .reverb = 1, .noise = 1, .warp = 0.1};
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const tg::speech::AugmentDraw with = tg::speech::draw_augment(warped, seed), without = tg::speech::draw_augment(all, seed);
    CHECK(with.speed == without.speed);
    CHECK(with.snr_db == without.snr_db);
    CHECK(with.colour == without.colour);
    CHECK((with.warp >= 0.9 && with.warp <= 1.1 && with.warp != 1));
    CHECK(without.warp == 1);
  }
  // A warp alone keeps the frames and changes the features (the bands themselves: log_mel's warp test).
  const tg::speech::AudioAugment warp_only{.warp = 0.2};
  const tg::Tensor warped_features = tg::speech::augmented_features(a, warp_only, 7);
  CHECK(warped_features.size(0) == plain.size(0));
  CHECK(warped_features.to_vector<float>() != plain.to_vector<float>());

  // The shares: noise on about half the utterances at 0.5.
  int noisy = 0;
  for (uint64_t seed = 1; seed <= 1000; ++seed) noisy += tg::speech::draw_augment({.noise = 0.5}, seed).noise;
  CHECK((noisy > 440 && noisy < 560));
}
