// A program of the audio library, built against the installed tree by
// tests/installed/check_installed.py: one second of a 440 Hz tone written as a
// WAV, read back, and turned into log-mel features whose loudest channel must
// be the one centred nearest 440 Hz.
#include <cmath>
#include <cstdio>
#include <numbers>
#include <tapegrad.h>
#include <tapegrad_audio.h>

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "tone.wav";
  tg::audio::Audio tone{{}, 16000};
  for (int i = 0; i < 16000; ++i) tone.samples.push_back(0.5f * std::sin(2 * std::numbers::pi_v<float> * 440.f * i / 16000));
  tg::audio::write_wav(path, tone);
  const tg::audio::Audio back = tg::audio::read_audio(path);
  const tg::Tensor features = tg::audio::log_mel(back);                            // (frames, 80)
  const int64_t loudest = static_cast<int64_t>(tg::argmax(tg::mean(features, 0), 0).item());  // channel of most energy
  const std::vector<double> centres = tg::audio::mel_centres(16000, {});
  int64_t nearest = 0;
  for (size_t m = 0; m < centres.size(); ++m)
    if (std::abs(centres[m] - 440) < std::abs(centres[size_t(nearest)] - 440)) nearest = int64_t(m);
  std::printf("%zu samples at %d Hz, features (%lld, %lld), loudest channel %lld (%.0f Hz), nearest to 440 Hz %lld\n",
              back.samples.size(), back.sample_rate, (long long)features.shape()[0], (long long)features.shape()[1],
              (long long)loudest, centres[size_t(loudest)], (long long)nearest);
  return std::abs(loudest - nearest) <= 1 ? 0 : 1;
}
