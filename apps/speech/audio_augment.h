#pragma once
// What training does to each utterance's audio before its features, so that
// the recogniser hears the words and not the synthesizer, the speaker or the
// room (docs/speech.md, "Augmentation"). Each is switched on by its own option
// and drawn per utterance from one seed, (run seed, epoch, batch, utterance),
// so a resumed run draws the same; turning one off leaves the others' draws
// as they were:
//
//   speed    audio played faster or slower by s in [1 − speed, 1 + speed]
//            (tempo and formants together)
//   pitch    every frequency × 2^(n/12), n in [−pitch, pitch] semitones, the
//            tempo kept (played faster by that factor, analysed with a hop as
//            much longer)
//   reverb   with probability `reverb`, a synthesized room: RT60 in
//            [rt60_low, rt60_high] s, direct-to-reverberant ratio in [0, 10] dB
//   noise    with probability `noise`, white, pink or brown noise (evenly) at
//            an SNR in [snr_low, snr_high] dB
//   warp     the formants moved by a factor in [1 − warp, 1 + warp], the
//            pitch kept: the mel filters' frequencies warped (vocal tract
//            length perturbation, tg::audio::MelOptions::frequency_warp)
//
// then the log-mel features, normalised per utterance (SpecAugment's masks
// come after, on the batch: speech_data.h).
#include <cstdint>
#include <string>

#include "core/tensor/tensor.h"
#include "data/audio/audio_file.h"

namespace tg::speech {

struct AudioAugment {
  double speed = 0, pitch = 0, reverb = 0, noise = 0, warp = 0;
  double rt60_low = 0.2, rt60_high = 0.8, snr_low = 5, snr_high = 30;
  bool on() const { return speed > 0 || pitch > 0 || reverb > 0 || noise > 0 || warp > 0; }
};

// What one utterance gets, drawn from `seed`.
struct AugmentDraw {
  double speed = 1, pitch_semitones = 0, warp = 1;
  bool reverb = false, noise = false;
  double rt60 = 0, direct_to_reverb_db = 0, snr_db = 0;
  int colour = 0;  // tg::audio::NoiseColour
};
AugmentDraw draw_augment(const AudioAugment& options, uint64_t seed);

// The features (frames, 80) of `audio` (16 kHz) changed as drawn from `seed`;
// with every option off, features_of's own.
tg::Tensor augmented_features(const tg::audio::Audio& audio, const AudioAugment& options, uint64_t seed);

// "speed ±10%, pitch ±2 semitones, reverb 30% (RT60 0.2-0.8 s), noise 50% (SNR 5-30 dB)" or "off".
std::string describe(const AudioAugment& options);

}  // namespace tg::speech
