// libFuzzer target: read_audio (data/audio/audio_file.h, libsndfile behind
// it) on arbitrary bytes, and on WAVs with chunks cut short. The property:
// a read gives finite samples of a positive rate whose count fits in the
// file, or throws tg::Error; never a crash, a hang, NaN or inf, nor more
// samples than the file's bytes could hold.
#include <cmath>

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
  // The densest encoding libsndfile reads is well above 1 bit a sample; 8
  // samples a byte bounds every format (compressed ones included).
  if (audio->samples.size() > 8 * size + 8) fuzz::broken("more samples than the file could hold");
  return 0;
}
