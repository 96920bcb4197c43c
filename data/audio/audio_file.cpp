#include "data/audio/audio_file.h"

#include <sndfile.h>

#include <cmath>
#include <memory>

#include "core/error.h"

namespace tg::audio {

namespace {
struct CloseSoundFile {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SoundFile = std::unique_ptr<SNDFILE, CloseSoundFile>;
}  // namespace

Audio read_audio(const std::string& path) {
  SF_INFO info{};
  SoundFile file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) fail("read_audio: {} is not a sound file libsndfile can read: {}", path, sf_strerror(nullptr));
  if (info.channels < 1 || info.samplerate < 1)
    fail("read_audio: {} has {} channels at {} Hz", path, info.channels, info.samplerate);
  std::vector<float> interleaved(static_cast<size_t>(info.frames) * static_cast<size_t>(info.channels));
  const sf_count_t read = sf_readf_float(file.get(), interleaved.data(), info.frames);
  if (read != info.frames)
    fail("read_audio: {} is truncated: {} of its {} frames could be read ({})", path, read, info.frames,
         sf_strerror(file.get()));
  Audio audio;
  audio.sample_rate = info.samplerate;
  audio.samples.resize(static_cast<size_t>(info.frames));
  for (sf_count_t i = 0; i < info.frames; ++i) {
    double sum = 0;
    for (int c = 0; c < info.channels; ++c) sum += interleaved[static_cast<size_t>(i * info.channels + c)];
    audio.samples[static_cast<size_t>(i)] = static_cast<float>(sum / info.channels);
  }
  return audio;
}

void write_wav(const std::string& path, const Audio& audio) {
  if (audio.sample_rate < 1) fail("write_wav: {}: the sample rate must be positive, got {}", path, audio.sample_rate);
  for (size_t i = 0; i < audio.samples.size(); ++i)
    if (!(std::abs(audio.samples[i]) <= 1.0f))
      fail("write_wav: {}: sample {} is {}; samples must be in [-1, 1]", path, i, audio.samples[i]);
  SF_INFO info{};
  info.samplerate = audio.sample_rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SoundFile file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) fail("write_wav: cannot write {}: {}", path, sf_strerror(nullptr));
  const auto frames = static_cast<sf_count_t>(audio.samples.size());
  if (sf_writef_float(file.get(), audio.samples.data(), frames) != frames)
    fail("write_wav: writing {} failed: {}", path, sf_strerror(file.get()));
}

}  // namespace tg::audio
