#include "data/audio/features.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "core/creation.h"
#include "core/error.h"
#include "data/audio/fft.h"

namespace tg::audio {

namespace {

double hz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

void check_options(int sample_rate, const MelOptions& o) {
  if (sample_rate < 1) fail("log_mel: the sample rate must be positive, got {}", sample_rate);
  if (o.n_fft < 2 || o.win_length < 1 || o.win_length > o.n_fft || o.hop_length < 1 || o.n_mels < 1)
    fail("log_mel: need n_fft >= 2, 1 <= win_length <= n_fft, hop_length >= 1, n_mels >= 1; got n_fft={} "
         "win_length={} hop_length={} n_mels={}", o.n_fft, o.win_length, o.hop_length, o.n_mels);
  const double f_max = o.f_max > 0 ? o.f_max : sample_rate / 2.0;
  if (!(o.f_min >= 0 && o.f_min < f_max && f_max <= sample_rate / 2.0))
    fail("log_mel: need 0 <= f_min < f_max <= {} Hz (half the sample rate), got f_min={} f_max={}",
         sample_rate / 2.0, o.f_min, f_max);
  if (!(o.floor > 0)) fail("log_mel: floor must be positive, got {}", o.floor);
  if (!(o.time_stretch >= 0.25 && o.time_stretch <= 4))
    fail("log_mel: time_stretch must be in [0.25, 4], got {}", o.time_stretch);
}

// n_mels + 2 frequencies (Hz) evenly spaced in mel from f_min to f_max.
std::vector<double> mel_points(int sample_rate, const MelOptions& o) {
  const double f_max = o.f_max > 0 ? o.f_max : sample_rate / 2.0;
  const double lo = hz_to_mel(o.f_min), hi = hz_to_mel(f_max);
  std::vector<double> points(static_cast<size_t>(o.n_mels + 2));
  for (size_t i = 0; i < points.size(); ++i)
    points[i] = mel_to_hz(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(o.n_mels + 1));
  return points;
}

}  // namespace

std::vector<double> mel_centres(int sample_rate, const MelOptions& options) {
  check_options(sample_rate, options);
  const std::vector<double> points = mel_points(sample_rate, options);
  return {points.begin() + 1, points.end() - 1};
}

std::vector<float> mel_filters(int sample_rate, const MelOptions& o) {
  check_options(sample_rate, o);
  const std::vector<double> points = mel_points(sample_rate, o);
  const int64_t bins = o.n_fft / 2 + 1;
  std::vector<float> filters(static_cast<size_t>(bins * o.n_mels), 0.0f);
  for (int64_t k = 0; k < bins; ++k) {
    const double hz = static_cast<double>(k) * sample_rate / static_cast<double>(o.n_fft);
    for (int64_t m = 0; m < o.n_mels; ++m) {
      const double left = points[m], centre = points[m + 1], right = points[m + 2];
      const double up = (hz - left) / (centre - left), down = (right - hz) / (right - centre);
      filters[static_cast<size_t>(k * o.n_mels + m)] = static_cast<float>(std::max(0.0, std::min(up, down)));
    }
  }
  return filters;
}

namespace {
// The filters of the last options a thread asked for: training computes the same bank for every utterance.
const std::vector<float>& cached_filters(int sample_rate, const MelOptions& o) {
  thread_local int rate = 0;
  thread_local MelOptions options;
  thread_local std::vector<float> filters;
  check_options(sample_rate, o);
  const bool same = rate == sample_rate && options.n_fft == o.n_fft && options.n_mels == o.n_mels &&
                    options.f_min == o.f_min && options.f_max == o.f_max;
  if (!same) filters = mel_filters(sample_rate, o), rate = sample_rate, options = o;
  return filters;
}
}  // namespace

Tensor log_mel(const Audio& audio, const MelOptions& o) {
  const std::vector<float>& filters = cached_filters(audio.sample_rate, o);  // checks the options first
  const int64_t n = static_cast<int64_t>(audio.samples.size());
  const double hop = static_cast<double>(o.hop_length) * o.time_stretch;
  auto frame_start = [&](int64_t f) { return static_cast<int64_t>(std::llround(static_cast<double>(f) * hop)); };
  int64_t frames = n < o.win_length ? 0 : static_cast<int64_t>(static_cast<double>(n - o.win_length) / hop) + 1;
  while (frames > 0 && frame_start(frames - 1) + o.win_length > n) --frames;
  const int64_t bins = o.n_fft / 2 + 1;
  std::vector<float> window(static_cast<size_t>(o.win_length));
  for (int64_t i = 0; i < o.win_length; ++i)  // periodic Hann, as torch.hann_window's default
    window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / o.win_length));

  std::vector<float> input(static_cast<size_t>(o.n_fft));
  std::vector<std::complex<float>> spectrum(static_cast<size_t>(bins));

  // Each triangular filter is zero outside a few bins: summing only its
  // nonzero span [first[m], end[m]) skips exact zeros (power ≥ 0, so the sum
  // is bit for bit the full one) and most of the work.
  std::vector<int64_t> first(static_cast<size_t>(o.n_mels), 0), end(static_cast<size_t>(o.n_mels), 0);
  for (int64_t m = 0; m < o.n_mels; ++m) {
    int64_t lo = bins, hi = 0;
    for (int64_t k = 0; k < bins; ++k)
      if (filters[static_cast<size_t>(k * o.n_mels + m)] != 0.0f) lo = std::min(lo, k), hi = k + 1;
    first[m] = std::min(lo, hi);
    end[m] = hi;
  }
  std::vector<float> out(static_cast<size_t>(frames * o.n_mels));
  std::vector<double> power(static_cast<size_t>(bins));
  for (int64_t f = 0; f < frames; ++f) {
    const float* frame = audio.samples.data() + frame_start(f);
    for (int64_t i = 0; i < o.n_fft; ++i) input[i] = i < o.win_length ? frame[i] * window[i] : 0.0f;
    detail::real_fft_into(input.data(), spectrum.data(), o.n_fft);
    for (int64_t k = 0; k < bins; ++k) {
      const double re = spectrum[k].real(), im = spectrum[k].imag();
      power[k] = re * re + im * im;
    }
    for (int64_t m = 0; m < o.n_mels; ++m) {
      double energy = 0;
      for (int64_t k = first[m]; k < end[m]; ++k) energy += power[k] * filters[static_cast<size_t>(k * o.n_mels + m)];
      out[static_cast<size_t>(f * o.n_mels + m)] = std::log(static_cast<float>(std::max(energy, o.floor)));
    }
  }
  return from_vector(out, Shape{frames, o.n_mels}, {DType::f32});
}

namespace {
// Each column of a (frames, channels) row-major matrix to mean 0 and deviation 1, in double.
template <typename T>
std::vector<T> normalized_columns(std::vector<T> values, int64_t frames, int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) {
    double mean = 0, square = 0;
    for (int64_t f = 0; f < frames; ++f) mean += values[f * channels + c];
    mean /= std::max<int64_t>(frames, 1);
    for (int64_t f = 0; f < frames; ++f) square += (values[f * channels + c] - mean) * (values[f * channels + c] - mean);
    const double std = std::sqrt(square / std::max<int64_t>(frames, 1));
    for (int64_t f = 0; f < frames; ++f)
      values[f * channels + c] = static_cast<T>(std > 1e-12 ? (values[f * channels + c] - mean) / std : 0.0);
  }
  return values;
}
}  // namespace

Tensor normalize_utterance(const Tensor& features) {
  check_defined(features, "normalize_utterance", "features");
  if (features.ndim() != 2) fail("normalize_utterance: features must be (frames, channels), got {}", features.shape().str());
  const int64_t frames = features.size(0), channels = features.size(1);
  // float32 stays float32 all the way (no cast kernel: training's feature thread keeps off the pool).
  if (features.dtype() == DType::f32)
    return from_vector(normalized_columns(features.to_vector<float>(), frames, channels), features.shape(),
                       {DType::f32, features.device()});
  return from_vector(normalized_columns(features.to_vector<double>(), frames, channels), features.shape(),
                     {features.dtype(), features.device()});
}

}  // namespace tg::audio
