// What one training utterance's features cost, part by part, on one thread:
// the plain log-mel (made once per run), each augmentation of
// apps/speech/audio_augment.h alone at the draw it would make, and the whole
// augmented_features() with the given options, as training's feature thread
// runs it. Milliseconds per utterance, the median of --rounds passes over the
// first --limit training utterances of a corpus (scripts/synthesize-speech.sh).
//
//   speech_features part=log_mel ms_per_utt=... utts=200 seconds_per_utt=...
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "apps/speech/audio_augment.h"
#include "apps/speech/speech_data.h"
#include "data/audio/augment.h"
#include "data/audio/features.h"

namespace {

using Part = std::function<void(const tg::audio::Audio&, uint64_t)>;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string data;
  int64_t limit = 200, rounds = 5;
  tg::speech::AudioAugment options{.speed = 0.1, .pitch = 2, .reverb = 0.3, .noise = 0.5};
  CLI::App app{"the cost of a training utterance's augmented features, part by part (one thread)"};
  app.add_option("--data", data, "corpus folder")->required();
  app.add_option("--limit", limit, "training utterances")->capture_default_str();
  app.add_option("--rounds", rounds, "passes; the median is printed")->capture_default_str();
  app.add_option("--speed", options.speed)->capture_default_str();
  app.add_option("--pitch", options.pitch)->capture_default_str();
  app.add_option("--reverb", options.reverb)->capture_default_str();
  app.add_option("--noise", options.noise)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::vector<tg::speech::Utterance> utterances =
      tg::speech::read_split(data, "train", {.limit = limit, .keep_audio = true});
  double seconds_of_audio = 0;
  for (const auto& u : utterances) seconds_of_audio += static_cast<double>(u.audio.samples.size()) / u.audio.sample_rate;

  // Each part as the augmentation would run it on the draw of `seed` (always on, so its cost is per use).
  const tg::speech::AudioAugment all{.speed = 0.1, .pitch = 2, .reverb = 1, .noise = 1};
  const std::vector<std::pair<std::string, Part>> parts = {
      {"log_mel", [](const tg::audio::Audio& a, uint64_t) { tg::audio::log_mel(a, tg::speech::mel_options()); }},
      {"normalize", [](const tg::audio::Audio& a, uint64_t) { tg::audio::normalize_utterance(tg::audio::log_mel(a, tg::speech::mel_options())); }},
      {"change_speed", [&](const tg::audio::Audio& a, uint64_t seed) {
         const tg::speech::AugmentDraw d = tg::speech::draw_augment(all, seed);
         tg::audio::change_speed(a, d.speed * std::pow(2.0, d.pitch_semitones / 12));
       }},
      {"reverb", [&](const tg::audio::Audio& a, uint64_t seed) {
         const tg::speech::AugmentDraw d = tg::speech::draw_augment(all, seed);
         std::mt19937_64 rng(seed);
         tg::audio::reverberate(a, tg::audio::room_impulse_response(a.sample_rate, d.rt60, d.direct_to_reverb_db, 0.005, rng));
       }},
      {"noise", [&](const tg::audio::Audio& a, uint64_t seed) {
         const tg::speech::AugmentDraw d = tg::speech::draw_augment(all, seed);
         std::mt19937_64 rng(seed);
         tg::audio::Audio copy = a;
         tg::audio::add_noise(copy, tg::audio::coloured_noise(static_cast<int64_t>(a.samples.size()),
                                                              static_cast<tg::audio::NoiseColour>(d.colour), rng), d.snr_db);
       }},
      {"augmented_features", [&](const tg::audio::Audio& a, uint64_t seed) { tg::speech::augmented_features(a, options, seed); }},
  };
  for (const auto& [name, part] : parts) {
    std::vector<double> ms;
    for (int64_t r = 0; r < rounds; ++r) {
      const auto start = std::chrono::steady_clock::now();
      for (size_t u = 0; u < utterances.size(); ++u) part(utterances[u].audio, 1000 * static_cast<uint64_t>(r) + u);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
                   static_cast<double>(utterances.size()));
    }
    fmt::print("speech_features part={} ms_per_utt={:.3f} utts={} seconds_per_utt={:.2f}\n", name, median(ms),
               utterances.size(), seconds_of_audio / static_cast<double>(utterances.size()));
  }
  fmt::print("augmented_features options: {}\n", tg::speech::describe(options));
}
