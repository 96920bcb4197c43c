// libFuzzer target: read_audio (data/audio/audio_file.h, libsndfile behind
// it) on arbitrary bytes, and on WAVs with chunks cut short. The property:
// a read gives finite samples of a positive rate, or throws tg::Error; never
// a crash, a hang, NaN or inf; and a PCM or float RIFF/WAVE file never gives
// more samples than its bytes hold. Compressed formats libsndfile also reads
// (ADPCM and G.721 inside WAV, MPEG, Ogg, FLAC) decode a few bytes into many
// samples, so the count is bounded for PCM and float WAVs only.
#include <cmath>
#include <cstring>

#include "core/services/error.h"
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
  // A PCM (1) or float (3) WAV with its fmt chunk first cannot give more samples than its bytes hold;
  // compressed formats (ADPCM, G.721: 2-4 bits a sample) legitimately give more samples than bytes.
  if (wave && size >= 36 && std::memcmp(data + 12, "fmt ", 4) == 0) {
    const unsigned tag = data[20] | (data[21] << 8), bits = data[34] | (data[35] << 8);
    if ((tag == 1 || tag == 3) && bits >= 8 && audio->samples.size() * (bits / 8) > size)
      fuzz::broken("a PCM WAV gave more samples than its bytes hold");
  }
  return 0;
}
