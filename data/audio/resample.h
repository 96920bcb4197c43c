#pragma once
// Band-limited interpolation, the one resampler of the audio library: output
// sample n is the input's value at position n·step, read through a
// Kaiser-windowed sinc (beta 8.6) whose cut-off is the lower of the two
// Nyquist frequencies (times 0.95), so that nothing folds back when the rate
// goes down. The kernel is tabulated at 256 phases a sample, read between
// them by linear interpolation, and summed in float, 8 lanes at a time.
//
//   resample(audio, 16000)         8, 22.05, 44.1, 48 kHz in: 16 zero crossings each side
//   change_speed (augment.h)       the same interpolation at step = factor, 8 zero crossings, the rate kept
#include <vector>

#include "data/audio/audio_file.h"

namespace tg::audio {

// `audio` at `rate` (Hz); the same samples when the rate is already that.
Audio resample(const Audio& audio, int rate);

// ceil(size / step) samples: sample n is `samples` read at position n·step (step > 0: input samples per output
// sample), through a windowed sinc reaching `zero_crossings` zero crossings each side of the cut-off's.
std::vector<float> interpolate(const std::vector<float>& samples, double step, int zero_crossings);

}  // namespace tg::audio
