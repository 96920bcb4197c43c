#include "data/audio/features.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "core/tensor/creation.h"
#include "core/services/error.h"
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
  if (!(o.frequency_warp >= 0.5 && o.frequency_warp <= 2))
    fail("log_mel: frequency_warp must be in [0.5, 2], got {}", o.frequency_warp);
}

// f × warp below the knee, then the straight line to (f_max, f_max) (MelOptions::frequency_warp).
double warped(double hz, double warp, double f_max) {
  if (warp == 1) return hz;
  const double knee = 0.85 * f_max / std::max(warp, 1.0);
  if (hz <= knee) return hz * warp;
  return knee * warp + (hz - knee) * (f_max - knee * warp) / (f_max - knee);
}

// n_mels + 2 frequencies (Hz) evenly spaced in mel from f_min to f_max, then warped.
std::vector<double> mel_points(int sample_rate, const MelOptions& o) {
  const double f_max = o.f_max > 0 ? o.f_max : sample_rate / 2.0;
  const double lo = hz_to_mel(o.f_min), hi = hz_to_mel(f_max);
  std::vector<double> points(static_cast<size_t>(o.n_mels + 2));
  for (size_t i = 0; i < points.size(); ++i)
    points[i] = warped(mel_to_hz(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(o.n_mels + 1)),
                       o.frequency_warp, f_max);
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
// The mel filters as log_mel runs them: each triangle is zero outside a few bins, so only its nonzero
// span [first[m], first[m] + weights[m].size()) is kept, contiguous. Summing over the span alone skips
// exact zeros (power ≥ 0), so the sum is bit for bit the full one.
struct FilterSpans {
  std::vector<int64_t> first;
  std::vector<std::vector<double>> weights;
};

FilterSpans filter_spans(int sample_rate, const MelOptions& o) {
  const std::vector<float> filters = mel_filters(sample_rate, o);
  const int64_t bins = o.n_fft / 2 + 1;
  FilterSpans spans{std::vector<int64_t>(static_cast<size_t>(o.n_mels), 0), std::vector<std::vector<double>>(static_cast<size_t>(o.n_mels))};
  for (int64_t m = 0; m < o.n_mels; ++m) {
    int64_t lo = bins, hi = 0;
    for (int64_t k = 0; k < bins; ++k)
      if (filters[static_cast<size_t>(k * o.n_mels + m)] != 0.0f) lo = std::min(lo, k), hi = k + 1;
    spans.first[m] = std::min(lo, hi);
    for (int64_t k = spans.first[m]; k < hi; ++k) spans.weights[m].push_back(filters[static_cast<size_t>(k * o.n_mels + m)]);
  }
  return spans;
}

// The spans of the last options a thread asked for: training computes the same bank for every utterance.
const FilterSpans& cached_spans(int sample_rate, const MelOptions& o) {
  thread_local int rate = 0;
  thread_local MelOptions options;
  thread_local FilterSpans spans;
  check_options(sample_rate, o);
  const bool same = rate == sample_rate && options.n_fft == o.n_fft && options.n_mels == o.n_mels &&
                    options.f_min == o.f_min && options.f_max == o.f_max && options.frequency_warp == o.frequency_warp;
  if (!same) spans = filter_spans(sample_rate, o), rate = sample_rate, options = o;
  return spans;
}
}  // namespace

Tensor log_mel(const Audio& audio, const MelOptions& o) {
  const FilterSpans& spans = cached_spans(audio.sample_rate, o);  // checks the options first
  const int64_t n = static_cast<int64_t>(audio.samples.size());
  const double hop = static_cast<double>(o.hop_length) * o.time_stretch;
  auto frame_start = [&](int64_t f) { return static_cast<int64_t>(std::llround(static_cast<double>(f) * hop)); };
  int64_t frames = n < o.win_length ? 0 : static_cast<int64_t>(static_cast<double>(n - o.win_length) / hop) + 1;
  while (frames > 0 && frame_start(frames - 1) + o.win_length > n) --frames;
  const int64_t bins = o.n_fft / 2 + 1;
  std::vector<float> window(static_cast<size_t>(o.win_length));
  for (int64_t i = 0; i < o.win_length; ++i)  // periodic Hann, as torch.hann_window's default
    window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / o.win_length));

  std::vector<float> input(static_cast<size_t>(o.n_fft), 0.0f);  // past win_length: zeros, left so
  std::vector<std::complex<float>> spectrum(static_cast<size_t>(bins));
  std::vector<float> out(static_cast<size_t>(frames * o.n_mels));
  std::vector<double> power(static_cast<size_t>(bins));
  for (int64_t f = 0; f < frames; ++f) {
    const float* frame = audio.samples.data() + frame_start(f);
    for (int64_t i = 0; i < o.win_length; ++i) input[i] = frame[i] * window[i];
    detail::real_fft_into(input.data(), spectrum.data(), o.n_fft);
    for (int64_t k = 0; k < bins; ++k) {
      const double re = spectrum[k].real(), im = spectrum[k].imag();
      power[k] = re * re + im * im;
    }
    for (int64_t m = 0; m < o.n_mels; ++m) {
      const double* p = power.data() + spans.first[m];
      const std::vector<double>& w = spans.weights[m];
      double energy = 0;
      for (size_t k = 0; k < w.size(); ++k) energy += p[k] * w[k];
      out[static_cast<size_t>(f * o.n_mels + m)] = std::log(static_cast<float>(std::max(energy, o.floor)));
    }
  }
  return from_vector(out, Shape{frames, o.n_mels}, {DType::f32});
}

namespace {
// Each column of a (frames, channels) row-major matrix to mean 0 and deviation 1, in double. The rows are
// read in order, each column's sums running over the frames in order.
template <typename T>
std::vector<T> normalized_columns(std::vector<T> values, int64_t frames, int64_t channels) {
  std::vector<double> mean(static_cast<size_t>(channels), 0.0), square(static_cast<size_t>(channels), 0.0);
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t c = 0; c < channels; ++c) mean[c] += values[f * channels + c];
  for (double& m : mean) m /= static_cast<double>(std::max<int64_t>(frames, 1));
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t c = 0; c < channels; ++c) square[c] += (values[f * channels + c] - mean[c]) * (values[f * channels + c] - mean[c]);
  std::vector<double> scale(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) scale[c] = std::sqrt(square[c] / static_cast<double>(std::max<int64_t>(frames, 1)));
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t c = 0; c < channels; ++c)
      values[f * channels + c] = static_cast<T>(scale[c] > 1e-12 ? (values[f * channels + c] - mean[c]) / scale[c] : 0.0);
  return values;
}
}  // namespace

Tensor normalize_utterance(const Tensor& features) {
  check_defined(features, "normalize_utterance", "features");
  if (features.ndim() != 2) fail("normalize_utterance: features must be (frames, channels), got {}", features.shape().str());
  const int64_t frames = features.size(0), channels = features.size(1);
  // float32 stays float32 all the way: no cast kernel, so training can make features on threads of its own.
  if (features.dtype() == DType::f32)
    return from_vector(normalized_columns(features.to_vector<float>(), frames, channels), features.shape(),
                       {DType::f32, features.device()});
  return from_vector(normalized_columns(features.to_vector<double>(), frames, channels), features.shape(),
                     {features.dtype(), features.device()});
}

}  // namespace tg::audio
