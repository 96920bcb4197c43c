// libFuzzer target: read_audio (data/audio/audio_file.h, libsndfile behind
// it) on arbitrary bytes, and on WAVs with chunks cut short. The property:
// a read gives finite samples of a positive rate, or throws tg::Error; never
// a crash, a hang, NaN or inf; and a RIFF/WAVE file never gives more samples
// than its bytes hold (a WAV sample takes at least one byte). Compressed
// formats libsndfile also reads (MPEG, Ogg, FLAC) may decode a few bytes into
// many samples, so the count is bounded for WAV only.
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "data/audio/audio_file.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::ScratchFile scratch(".wav");
  const std::string& path = scratch.write(fuzz::bytes(data, size));
  const auto audio = fuzz::value_or_error([&] { return tg::audio::read_audio(path); });
  if (!audio) return 0;
  if (audio->sample_rate < 1) fuzz::broken("a read gave a sample rate below 1");
  for (const float s : audio->samples)
    if (!std::isfinite(s)) fuzz::broken("a read gave a sample that is not finite");
  const bool wave = size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WAVE", 4) == 0;
  if (wave && audio->samples.size() > size) fuzz::broken("a WAV gave more samples than its bytes hold");
  return 0;
}
