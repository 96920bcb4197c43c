#include "apps/speech/audio_augment.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "apps/speech/speech_data.h"
#include "data/audio/augment.h"
#include "data/audio/features.h"

namespace tg::speech {

namespace {
// One engine per kind of draw, each from the utterance's seed: turning one augmentation off moves none of the others.
std::mt19937_64 engine(uint64_t seed, uint64_t kind) { return std::mt19937_64(seed * 0x9E3779B97F4A7C15ULL + kind); }

double uniform(std::mt19937_64& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
}  // namespace

AugmentDraw draw_augment(const AudioAugment& o, uint64_t seed) {
  AugmentDraw d;
  std::mt19937_64 rng = engine(seed, 0);
  // Every number drawn whatever is on, in one order.
  const double speed = uniform(rng, 1 - o.speed, 1 + o.speed), semitones = uniform(rng, -o.pitch, o.pitch);
  const double reverb = uniform(rng, 0, 1), rt60 = uniform(rng, o.rt60_low, o.rt60_high), ratio = uniform(rng, 0, 10);
  const double noise = uniform(rng, 0, 1), snr = uniform(rng, o.snr_low, o.snr_high);
  const int colour = std::uniform_int_distribution<int>(0, 2)(rng);
  const double warp = uniform(rng, 1 - o.warp, 1 + o.warp);  // last: the numbers before it are drawn as they were
  if (o.speed > 0) d.speed = speed;
  if (o.pitch > 0) d.pitch_semitones = semitones;
  if (o.warp > 0) d.warp = warp;
  if (reverb < o.reverb) d.reverb = true, d.rt60 = rt60, d.direct_to_reverb_db = ratio;
  if (noise < o.noise) d.noise = true, d.snr_db = snr, d.colour = colour;
  return d;
}

tg::Tensor augmented_features(const tg::audio::Audio& audio, const AudioAugment& options, uint64_t seed) {
  const AugmentDraw d = draw_augment(options, seed);
  const double pitch = std::pow(2.0, d.pitch_semitones / 12);
  tg::audio::Audio changed = tg::audio::change_speed(audio, d.speed * pitch);
  if (d.reverb) {
    std::mt19937_64 rng = engine(seed, 1);
    changed = tg::audio::reverberate(
        changed, tg::audio::room_impulse_response(changed.sample_rate, d.rt60, d.direct_to_reverb_db, 0.005, rng));
  }
  if (d.noise) {
    std::mt19937_64 rng = engine(seed, 2);
    tg::audio::add_noise(changed, tg::audio::coloured_noise(static_cast<int64_t>(changed.samples.size()),
                                                            static_cast<tg::audio::NoiseColour>(d.colour), rng),
                         d.snr_db);
  }
  tg::audio::MelOptions mel = mel_options();
  mel.time_stretch = 1 / pitch;  // the pitch's speed-up undone in time
  mel.frequency_warp = d.warp;
  return tg::audio::normalize_utterance(tg::audio::log_mel(changed, mel));
}

std::string describe(const AudioAugment& o) {
  if (!o.on()) return "off";
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (o.speed > 0) add(fmt::format("speed ±{:g}%", 100 * o.speed));
  if (o.pitch > 0) add(fmt::format("pitch ±{:g} semitones", o.pitch));
  if (o.reverb > 0) add(fmt::format("reverb {:g}% (RT60 {:g}-{:g} s)", 100 * o.reverb, o.rt60_low, o.rt60_high));
  if (o.noise > 0) add(fmt::format("noise {:g}% (white/pink/brown, SNR {:g}-{:g} dB)", 100 * o.noise, o.snr_low, o.snr_high));
  if (o.warp > 0) add(fmt::format("formant warp ±{:g}%", 100 * o.warp));
  return s;
}

}  // namespace tg::speech
