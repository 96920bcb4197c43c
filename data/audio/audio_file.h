#pragma once
// Reading and writing audio with libsndfile (Debian's libsndfile1): WAV,
// FLAC, Ogg and the other formats it knows, so no codec is hand-written here.
#include <cstdint>
#include <string>
#include <vector>

namespace tg::audio {

// The highest sample rate read_audio and probe_audio accept (what studio
// recorders use at most); a header claiming more is refused before decoding.
inline constexpr int kMaxSampleRate = 384000;

// Mono samples in [-1, 1] and their rate.
struct Audio {
  std::vector<float> samples;
  int sample_rate = 0;
  double seconds() const { return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0; }
};

// Reads a file; several channels are averaged to one. Errors name the file
// and libsndfile's reason ("... is not a sound file libsndfile can read: ..."),
// a WAV whose data chunk claims more bytes than the file holds, and the first
// sample that is not a finite number (NaN, inf, or beyond float's range),
// and a rate above kMaxSampleRate. Decodes a block at a time: its memory is
// the mono samples the file really holds, whatever its header claims.
Audio read_audio(const std::string& path);
// What a file's header says, without decoding it: its frames, rate and
// channels (a server refuses a clip too long before decoding it). Errors as
// read_audio's.
struct AudioInfo {
  int64_t frames = 0;
  int sample_rate = 0;
  int channels = 0;
  double seconds() const { return sample_rate > 0 ? static_cast<double>(frames) / sample_rate : 0.0; }
};
AudioInfo probe_audio(const std::string& path);
// Writes 16-bit PCM WAV; refuses an empty rate and samples outside [-1, 1]
// that would clip (naming the first).
void write_wav(const std::string& path, const Audio& audio);

}  // namespace tg::audio
