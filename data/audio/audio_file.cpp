#include "data/audio/audio_file.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "core/services/error.h"

namespace tg::audio {

namespace {
struct CloseSoundFile {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SoundFile = std::unique_ptr<SNDFILE, CloseSoundFile>;

uint32_t little_endian_u32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
}

// A RIFF/WAVE file's chunks against its size: libsndfile reads a data chunk
// that claims more bytes than the file holds as the part that is there, so
// a truncated recording would pass for a short one. Each chunk is an id, a
// 32-bit little-endian size and the bytes (padded to even); the walk stops at
// the data chunk. Other formats (and RF64) are left to libsndfile.
void check_wave_chunks(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return;  // libsndfile has opened it; a race with a deletion is its to report
  const int64_t file_size = static_cast<int64_t>(in.tellg());
  char header[12];
  in.seekg(0);
  if (!in.read(header, 12) || std::memcmp(header, "RIFF", 4) != 0 || std::memcmp(header + 8, "WAVE", 4) != 0) return;
  int64_t offset = 12;
  char chunk[8];
  while (offset + 8 <= file_size) {
    in.seekg(offset);
    if (!in.read(chunk, 8)) return;
    const int64_t size = little_endian_u32(chunk + 4);
    const int64_t available = file_size - offset - 8;
    if (std::memcmp(chunk, "data", 4) == 0) {
      if (size > available)
        fail("read_audio: {} is truncated or damaged: its data chunk at byte {} claims {} bytes, but the file holds "
             "{} after the chunk header",
             path, offset, size, available);
      return;
    }
    offset += 8 + size + (size % 2);
  }
}
// The file opened for reading, its header in `info`; errors name the file.
SoundFile open_sound_file(const std::string& path, SF_INFO& info) {
  info = SF_INFO{};
  SoundFile file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) fail("read_audio: {} is not a sound file libsndfile can read: {}", path, sf_strerror(nullptr));
  if (info.channels < 1 || info.samplerate < 1)
    fail("read_audio: {} has {} channels at {} Hz", path, info.channels, info.samplerate);
  // A header may claim any rate; resampling costs time and a table that grow with it.
  if (info.samplerate > kMaxSampleRate)
    fail("read_audio: {} says {} Hz; rates above {} Hz are refused", path, info.samplerate, kMaxSampleRate);
  return file;
}

}  // namespace

AudioInfo probe_audio(const std::string& path) {
  SF_INFO info;
  open_sound_file(path, info);
  return {static_cast<int64_t>(info.frames), info.samplerate, info.channels};
}

Audio read_audio(const std::string& path) {
  SF_INFO info;
  const SoundFile file = open_sound_file(path, info);
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV) check_wave_chunks(path);
  // Decoded a block at a time and mixed to mono as it comes: memory follows
  // the frames the file really holds, not the count its header claims, and
  // never frames × channels.
  const sf_count_t block = std::max<sf_count_t>(1, (sf_count_t{1} << 18) / info.channels);
  std::vector<float> interleaved(static_cast<size_t>(block) * static_cast<size_t>(info.channels));
  Audio audio;
  audio.sample_rate = info.samplerate;
  sf_count_t read = 0;
  while (read < info.frames) {
    const sf_count_t got = sf_readf_float(file.get(), interleaved.data(), std::min(block, info.frames - read));
    if (got <= 0) break;
    for (sf_count_t f = 0; f < got; ++f) {
      double sum = 0;
      for (int c = 0; c < info.channels; ++c) sum += interleaved[static_cast<size_t>(f * info.channels + c)];
      const float sample = static_cast<float>(sum / info.channels);
      // A float file may hold NaN, inf or values beyond float's range: refused
      // here, before features turn them into silence or garbage.
      if (!std::isfinite(sample))
        fail("read_audio: {}: sample {} (at {:.3f} s) is {}; audio samples must be finite numbers", path, read + f,
             static_cast<double>(read + f) / info.samplerate, sample);
      audio.samples.push_back(sample);
    }
    read += got;
  }
  if (read != info.frames)
    fail("read_audio: {} is truncated: {} of its {} frames could be read ({})", path, read, info.frames,
         sf_strerror(file.get()));
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
