#pragma once
// Changes of a recording that a recogniser should not hear as a change of
// words: another speaking speed, another pitch, noise, a room. Training draws
// them afresh for each utterance (Ko et al. 2015 for speed, Jaitly & Hinton
// 2013 for the spectral warp behind pitch, DeepSpeech 2 for noise). Each
// function is deterministic given its arguments; the random ones take the
// engine they draw from, so a seed fixes every sample.
#include <cstdint>
#include <random>
#include <vector>

#include "data/audio/audio_file.h"

namespace tg::audio {

// The audio played `factor` times faster: duration ÷ factor, every frequency
// × factor (tempo and pitch move together, as sox's `speed`). Band-limited
// interpolation (data/audio/resample.h's, with 8 zero crossings each side:
// shorter than resample()'s 16, for speed): when factor > 1 what would
// pass the Nyquist frequency is cut off, from 0.95 of it ÷ factor down over
// about a tenth of the sample rate (a tone the speed-up lifts 1.95 kHz past
// 8 kHz is 49 dB down). factor in [0.5, 2].
Audio change_speed(const Audio& audio, double factor);

// Noise of n samples and power (mean square) 1 whose power spectrum falls as
// 1/f^α: white α = 0, pink α = 1, brown α = 2. Drawn in the frequency domain
// (each bin's real and imaginary parts of variance 1, scaled by f^(-α/2); no
// power at 0 Hz) and brought back by an inverse FFT.
enum class NoiseColour { white, pink, brown };
const char* noise_colour_name(NoiseColour colour);
std::vector<float> coloured_noise(int64_t n, NoiseColour colour, std::mt19937_64& rng);

// signal + g · noise with g chosen so that power(signal) / power(g · noise)
// = 10^(snr_db / 10) exactly (powers as mean squares over the signal's
// length; noise at least as long). A silent signal is returned unchanged.
void add_noise(Audio& audio, const std::vector<float>& noise, double snr_db);

// A room's impulse response at `sample_rate`: 1 at t = 0 (the direct sound),
// then after `pre_delay` seconds a tail of normal noise whose amplitude
// decays by 60 dB over rt60 seconds (amplitude ∝ 10^(-3 t / rt60)), lasting
// rt60, scaled so that the tail's energy is the direct sound's ×
// 10^(-direct_to_reverb_db / 10).
std::vector<float> room_impulse_response(int sample_rate, double rt60, double direct_to_reverb_db, double pre_delay,
                                         std::mt19937_64& rng);
// The audio convolved with the impulse response (FFTW), cut to its own length
// and scaled back to its own power.
Audio reverberate(const Audio& audio, const std::vector<float>& impulse_response);

}  // namespace tg::audio
