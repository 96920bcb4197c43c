#pragma once
// Log-mel filterbank features, the input of a speech recogniser:
//   frame f = samples[s_f, s_f + win), s_f = round(f·hop·stretch)   (no padding; a last partial frame is dropped)
//   X_f(k) = FFT_n_fft(frame ⊙ hann)(k), k = 0 … n_fft/2   (FFTW3; periodic Hann window of win samples)
//   E_f(m) = Σ_k |X_f(k)|² H_m(k)                          (power spectrum through the mel filters)
//   feature[f, m] = ln max(E_f(m), floor)
// H_m: triangles on the HTK mel scale, mel(f) = 2595 log10(1 + f/700), with
// n_mels + 2 points evenly spaced in mel from f_min to f_max, peak 1, no area
// normalisation (torchaudio's MelScale defaults). FFTW does the transform:
// a library made for it, as the project's rule for dependencies asks.
#include <cstdint>
#include <vector>

#include "data/audio/audio_file.h"
#include "core/tensor/tensor.h"

namespace tg::audio {

struct MelOptions {
  int64_t n_fft = 400;       // 25 ms at 16 kHz
  int64_t win_length = 400;  // at most n_fft
  int64_t hop_length = 160;  // 10 ms at 16 kHz
  int64_t n_mels = 80;
  double f_min = 0;
  double f_max = 0;  // 0: half the sample rate
  double floor = 1e-10;
  // Frames every hop_length × time_stretch samples: > 1 gives fewer frames, as
  // a faster tempo would, and moves no frequency (training's pitch and tempo
  // perturbation; 1 for everything else).
  double time_stretch = 1;
  // Vocal tract length perturbation (Jaitly & Hinton 2013): every filter's
  // frequencies f × warp up to a knee at 0.85 f_max / max(warp, 1), then a
  // straight line from there to f_max (which stays): the formants of a
  // longer (warp > 1) or shorter vocal tract, the pitch unmoved. 1: none.
  double frequency_warp = 1;
};

// (frames, n_mels) float32; zero frames for audio shorter than one window.
Tensor log_mel(const Audio& audio, const MelOptions& options = {});
// The filters as a (n_fft/2 + 1, n_mels) row-major matrix.
std::vector<float> mel_filters(int sample_rate, const MelOptions& options);
// The centre frequency of each filter, in Hz.
std::vector<double> mel_centres(int sample_rate, const MelOptions& options);
// Each mel channel (column) to mean 0 and standard deviation 1 over the
// frames (per utterance); a constant channel becomes 0.
Tensor normalize_utterance(const Tensor& features);

}  // namespace tg::audio
