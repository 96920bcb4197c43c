#pragma once
// Sample-rate conversion by band-limited interpolation: each output sample
// is the input convolved with a Kaiser-windowed sinc (16 zero crossings each
// side, beta 8.6) centred where it falls, its cut-off at the lower of the
// two Nyquist frequencies (times 0.95) so that nothing folds back when the
// rate goes down. For speech in: 8, 22.05, 44.1, 48 kHz -> 16 kHz.
#include "data/audio/audio_file.h"

namespace tg::audio {

// `audio` at `rate` (Hz); the same samples when the rate is already that.
Audio resample(const Audio& audio, int rate);

}  // namespace tg::audio
