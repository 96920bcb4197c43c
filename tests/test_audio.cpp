// The audio library: WAV files through libsndfile, log-mel
// features through FFTW against an independent NumPy computation
// (tests/fixtures/make_audio_fixtures.py -> log_mel.txt), a pure tone's
// energy in the mel band around its frequency, per-utterance normalisation,
// errors that name the file or the argument, and the synthesized corpus
// (scripts/synthesize-speech.sh --tiny).
#include <doctest/doctest.h>
#include <sndfile.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "tapegrad_audio.h"
#include "test_support.h"

using namespace test_support;
using tg::audio::Audio;
using tg::audio::MelOptions;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/tapegrad_test_audio_" + std::to_string(getpid()) + "_" + name;
}

Audio tone(double hz, int rate, int64_t count, double amplitude = 0.5) {
  Audio a;
  a.sample_rate = rate;
  for (int64_t n = 0; n < count; ++n)
    a.samples.push_back(static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * hz * n / rate)));
  return a;
}

}  // namespace

TEST_CASE("write_wav then read_audio gives the samples back to 16-bit precision") {
  const std::string path = temp_path("tone.wav");
  const Audio written = tone(440, 16000, 1600);
  tg::audio::write_wav(path, written);
  const Audio read = tg::audio::read_audio(path);
  CHECK(read.sample_rate == 16000);
  REQUIRE(read.samples.size() == written.samples.size());
  double worst = 0;
  for (size_t i = 0; i < read.samples.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(read.samples[i] - written.samples[i])));
  CHECK(worst <= 1.0 / 32768);
  CHECK(read.seconds() == doctest::Approx(0.1));
  std::remove(path.c_str());
}

TEST_CASE("probe_audio reads the header's frames, rate and channels without decoding") {
  const std::string path = temp_path("probe.wav");
  tg::audio::write_wav(path, tone(440, 22050, 4410));
  const tg::audio::AudioInfo info = tg::audio::probe_audio(path);
  CHECK(info.frames == 4410);
  CHECK(info.sample_rate == 22050);
  CHECK(info.channels == 1);
  CHECK(info.seconds() == doctest::Approx(0.2));
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(tg::audio::probe_audio(temp_path("missing.wav")), doctest::Contains("missing.wav"), tg::Error);
}

TEST_CASE("resample: a tone keeps its frequency and amplitude up and down; what the new rate cannot hold is removed") {
  // Against the tone computed at the new rate (skipping the filter's reach at each end, 16 zero crossings).
  const auto worst_error = [](const Audio& got, double hz, double amplitude) {
    double worst = 0;
    for (size_t n = 200; n + 200 < got.samples.size(); ++n)
      worst = std::max(worst, std::abs(got.samples[n] - amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(n) / got.sample_rate)));
    return worst;
  };
  for (const int from : {48000, 8000, 44100, 22050}) {  // (a plain loop variable: clang 14 cannot capture a binding)
    const int to = 16000;
    CAPTURE(from);
    const Audio in = tone(1000, from, from);  // 1 s of 1 kHz at 0.5
    const Audio out = tg::audio::resample(in, to);
    CHECK(out.sample_rate == to);
    CHECK(out.samples.size() == static_cast<size_t>(std::ceil(static_cast<double>(in.samples.size()) * to / from)));
    CHECK(worst_error(out, 1000, 0.5) < 2e-3);
  }
  // 12 kHz at 48 kHz is above 16 kHz's Nyquist (8 kHz): removed, not folded back to 4 kHz.
  const Audio high = tg::audio::resample(tone(12000, 48000, 48000), 16000);
  double power = 0;
  for (size_t n = 200; n + 200 < high.samples.size(); ++n) power += high.samples[n] * high.samples[n];
  CHECK(std::sqrt(power / static_cast<double>(high.samples.size() - 400)) < 1e-3);  // the tone's RMS is 0.35
  // The same rate gives the same samples.
  const Audio same = tone(440, 16000, 1000);
  CHECK(tg::audio::resample(same, 16000).samples == same.samples);
  CHECK_THROWS_WITH_AS(tg::audio::resample(same, 0), doctest::Contains("rates must be positive"), tg::Error);
}

TEST_CASE("log_mel equals an independent NumPy computation of the same features") {
  Audio a;
  a.sample_rate = 16000;
  for (int n = 0; n < 4800; ++n)
    a.samples.push_back(static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 440 * n / 16000.0) +
                                           0.25 * std::sin(2 * std::numbers::pi * 3000 * n / 16000.0) +
                                           0.1 * (n % 97) / 97.0 - 0.05));
  const MelOptions options{.n_fft = 512, .win_length = 400, .hop_length = 160, .n_mels = 40, .f_min = 20, .f_max = 7600};
  const tg::Tensor features = tg::audio::log_mel(a, options);
  const Fixture fixture = load_fixture("log_mel.txt");
  const FixtureTensor& want = entry(fixture, "features");
  REQUIRE(features.shape() == want.shape);  // (28, 40): ⌊(4800 − 400) / 160⌋ + 1 frames
  const std::vector<double> got = features.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want.values[i]));
  CHECK(worst < 1e-3);  // log energies; float32 FFT against float64
  const std::vector<double> centres = tg::audio::mel_centres(16000, options);
  const FixtureTensor& want_centres = entry(fixture, "centres");
  for (size_t m = 0; m < centres.size(); ++m) CHECK(centres[m] == doctest::Approx(want_centres.values[m]).epsilon(1e-12));
}

TEST_CASE("a pure tone's energy lands in the mel band around its frequency") {
  const MelOptions options;  // 400-point FFT, 80 mels up to 8 kHz
  const std::vector<double> centres = tg::audio::mel_centres(16000, options);
  for (const double hz : {300.0, 1000.0, 2500.0, 6000.0}) {
    CAPTURE(hz);
    const tg::Tensor features = tg::audio::log_mel(tone(hz, 16000, 8000), options);
    const std::vector<double> frame = tg::select(features, 0, 10).to_vector<double>();
    const size_t loudest = static_cast<size_t>(std::max_element(frame.begin(), frame.end()) - frame.begin());
    // The band whose centre is nearest the tone, or a neighbour (a tone between two centres feeds both).
    size_t nearest = 0;
    for (size_t m = 0; m < centres.size(); ++m)
      if (std::abs(centres[m] - hz) < std::abs(centres[nearest] - hz)) nearest = m;
    CHECK(std::abs(static_cast<long>(loudest) - static_cast<long>(nearest)) <= 1);
    CHECK(frame[loudest] > frame[(loudest + 40) % frame.size()] + 10);  // far bands are e^10 quieter
  }
}

TEST_CASE("normalize_utterance: each channel to mean 0 and std 1; a constant channel to 0") {
  const tg::Tensor f = tg::tensor({1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 6.0, 5.0}, tg::Shape{4, 2}, {.dtype = tg::DType::f64});
  const std::vector<double> n = tg::audio::normalize_utterance(f).to_vector<double>();
  double mean = 0, square = 0;
  for (int i = 0; i < 4; ++i) mean += n[i * 2];
  for (int i = 0; i < 4; ++i) square += n[i * 2] * n[i * 2];
  CHECK(mean == doctest::Approx(0).scale(1));
  CHECK(square / 4 == doctest::Approx(1));
  for (int i = 0; i < 4; ++i) CHECK(n[i * 2 + 1] == 0.0);
}

TEST_CASE("audio errors name the file or the argument") {
  CHECK_THROWS_WITH_AS(tg::audio::read_audio("/nonexistent/x.wav"),
                       doctest::Contains("/nonexistent/x.wav is not a sound file libsndfile can read"), tg::Error);
  const std::string text = temp_path("not_audio.wav");
  std::ofstream(text) << "these are not samples\n";
  CHECK_THROWS_WITH_AS(tg::audio::read_audio(text), doctest::Contains("is not a sound file libsndfile can read"),
                       tg::Error);
  std::remove(text.c_str());
  Audio loud = tone(440, 16000, 10, 1.5);
  CHECK_THROWS_WITH_AS(tg::audio::write_wav(temp_path("loud.wav"), loud), doctest::Contains("samples must be in [-1, 1]"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::audio::log_mel(tone(440, 16000, 1000), {.n_fft = 256, .win_length = 400}),
                       doctest::Contains("1 <= win_length <= n_fft"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::audio::log_mel(tone(440, 16000, 1000), {.f_max = 9000}),
                       doctest::Contains("f_max <= 8000 Hz (half the sample rate)"), tg::Error);
  CHECK(tg::audio::log_mel(tone(440, 16000, 100)).shape() == tg::Shape{0, 80});  // shorter than one window
}

namespace {
// A mono 32-bit float WAV (format 3) holding `samples` exactly, written by hand
// so that values write_wav refuses (NaN, inf, beyond float) can be stored.
void write_float_wav(const std::string& path, const std::vector<float>& samples) {
  auto u32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  auto u16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 4);
  std::string bytes = "RIFF" + u32(36 + data_bytes) + "WAVE" + "fmt " + u32(16) + u16(3) + u16(1) + u32(16000) +
                      u32(64000) + u16(4) + u16(32) + "data" + u32(data_bytes);
  std::string payload(data_bytes, '\0');
  std::memcpy(payload.data(), samples.data(), data_bytes);
  std::ofstream(path, std::ios::binary) << bytes + payload;
}
}  // namespace

TEST_CASE("read_audio refuses a rate beyond 384 kHz from the header; decodes long multichannel files block by block") {
  // A valid 16 kHz WAV whose header is then made to say 10^8 Hz (bytes 24-27 rate, 28-31 bytes per second).
  const std::string path = temp_path("fast.wav");
  tg::audio::write_wav(path, tone(440, 16000, 1600, 0.5));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    const uint32_t rate = 100000000, bytes_per_second = 2 * rate;
    f.seekp(24);
    f.write(reinterpret_cast<const char*>(&rate), 4);  // little-endian on the machines this runs on
    f.write(reinterpret_cast<const char*>(&bytes_per_second), 4);
  }
  CHECK_THROWS_WITH_AS(tg::audio::probe_audio(path),
                       doctest::Contains((path + " says 100000000 Hz; rates above 384000 Hz are refused").c_str()),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::audio::read_audio(path), doctest::Contains("rates above 384000 Hz are refused"), tg::Error);
  std::remove(path.c_str());
  // Three channels, more frames than one decoding block holds: mixed to their mean, every frame there.
  const std::string multi = temp_path("three.wav");
  const int64_t frames = 250001;
  {
    SF_INFO info{};
    info.samplerate = 16000;
    info.channels = 3;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* out = sf_open(multi.c_str(), SFM_WRITE, &info);
    REQUIRE(out != nullptr);
    std::vector<float> interleaved;
    for (int64_t i = 0; i < frames; ++i)
      for (const float v : {0.25f, -0.5f, static_cast<float>(i % 7) / 8})
        interleaved.push_back(v);
    REQUIRE(sf_writef_float(out, interleaved.data(), frames) == frames);
    sf_close(out);
  }
  const Audio mixed = tg::audio::read_audio(multi);
  REQUIRE(static_cast<int64_t>(mixed.samples.size()) == frames);
  for (const int64_t i : {int64_t{0}, int64_t{87380}, int64_t{87381}, frames - 1})
    CHECK(mixed.samples[static_cast<size_t>(i)] ==
          doctest::Approx((0.25 - 0.5 + static_cast<double>(i % 7) / 8) / 3).epsilon(1e-6));
  std::remove(multi.c_str());
}

TEST_CASE("read_audio refuses non-finite samples and a data chunk longer than the file, naming file and place") {
  const std::string finite = temp_path("finite.wav");
  write_float_wav(finite, {0.0f, 0.5f, -0.25f, 1.5f});  // beyond [-1, 1] is allowed in a float file
  const Audio audio = tg::audio::read_audio(finite);
  CHECK(audio.samples == std::vector<float>{0.0f, 0.5f, -0.25f, 1.5f});
  for (const float bad : {NAN, INFINITY, -INFINITY}) {
    CAPTURE(bad);
    const std::string path = temp_path("bad_sample.wav");
    write_float_wav(path, {0.1f, 0.2f, bad, 0.3f});
    CHECK_THROWS_WITH_AS(tg::audio::read_audio(path),
                         doctest::Contains((path + ": sample 2 (at 0.000 s) is ").c_str()), tg::Error);
    CHECK_THROWS_WITH_AS(tg::audio::read_audio(path), doctest::Contains("audio samples must be finite numbers"),
                         tg::Error);
    std::remove(path.c_str());
  }
  // A 16-bit WAV cut in half: its data chunk still claims every sample.
  const std::string whole = temp_path("whole.wav");
  tg::audio::write_wav(whole, tone(440, 16000, 16000, 0.5));
  const auto size = std::filesystem::file_size(whole);
  CHECK(tg::audio::read_audio(whole).samples.size() == 16000);
  std::filesystem::resize_file(whole, size / 2);
  CHECK_THROWS_WITH_AS(tg::audio::read_audio(whole), doctest::Contains((whole + " is truncated or damaged: its data chunk").c_str()),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::audio::read_audio(whole), doctest::Contains("claims 32000 bytes"), tg::Error);
  std::remove(whole.c_str());
  std::remove(finite.c_str());
}

TEST_CASE("scripts/synthesize-speech.sh --tiny: 8/2/2 utterances, readable 16 kHz WAVs, test voices unseen in training, "
          "the held-out synthesizer in no split but its own, perturbed training audio, test audio the same whatever the "
          "training options") {
  if (std::system("command -v espeak-ng >/dev/null && command -v sox >/dev/null") != 0) {
    MESSAGE("espeak-ng or sox missing (scripts/install-deps.sh installs them): skipping the synthesis check");
    return;
  }
  const bool festival = std::system("command -v festival >/dev/null && ls /usr/share/festival/voices/*/kal_diphone >/dev/null 2>&1") == 0;
  const bool flite = std::system("command -v flite >/dev/null") == 0;
  if (!festival || !flite) MESSAGE("flite or festival missing (scripts/install-deps.sh installs them): checking the engines there are");
  const std::string dir = temp_path("corpus"), text = temp_path("sentences.txt");
  {
    std::ofstream out(text);
    for (int i = 0; i < 14; ++i) out << "A dog number " << i << " runs across the \"green\" field, doesn't it?\n";
    out << "12 34\n";  // no letters: dropped
  }
  const std::string command = std::string("bash ") + TAPEGRAD_SOURCE_DIR + "/scripts/synthesize-speech.sh --tiny --jobs 2 --text " +
                              text + " " + dir + " >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  std::map<std::string, std::set<std::string>> voices;  // split -> voices used (engine:name)
  std::map<std::string, int> counts;
  for (const std::string split : {"train", "val", "test", "heldout"}) {
    std::ifstream tsv(dir + "/" + split + ".tsv");
    if (split == "heldout" && !festival) {
      CHECK_FALSE(tsv.good());  // no held-out synthesizer, no split
      continue;
    }
    for (std::string line; std::getline(tsv, line);) {
      std::vector<std::string> fields;
      std::stringstream row(line);
      for (std::string field; std::getline(row, field, '\t');) fields.push_back(field);
      REQUIRE(fields.size() == 6);
      const double factor = std::stod(fields[5]);  // sox speed: training only, in [0.9, 1.1] by default
      if (split == "train") CHECK((factor >= 0.9 && factor <= 1.1));
      else CHECK(fields[5] == "1");
      CHECK(fields[1].find_first_not_of("abcdefghijklmnopqrstuvwxyz' ") == std::string::npos);
      CHECK(fields[1].find("doesn't") != std::string::npos);
      const std::string engine = fields[2].substr(0, fields[2].find(':'));
      CHECK((engine == "espeak-ng" || engine == "flite" || engine == "festival"));
      if (split == "test") CHECK(engine == "espeak-ng");
      if (split == "heldout") CHECK(engine == "festival");
      if (split == "train" || split == "val") CHECK(engine != "festival");
      voices[split].insert(fields[2]);
      const Audio audio = tg::audio::read_audio(dir + "/" + fields[0]);
      CHECK(audio.sample_rate == 16000);
      CHECK(audio.seconds() > 1.0);
      ++counts[split];
    }
  }
  CHECK(counts["train"] == 8);
  CHECK(counts["val"] == 2);
  CHECK(counts["test"] == 2);
  CHECK(counts["heldout"] == (festival ? 2 : 0));
  // No test voice speaks in training; nor any espeak-ng validation variant; nor a voice made from the
  // held-out synthesizer's speakers (flite's kal16 and slt are festival's kal and slt).
  for (const std::string& v : voices["test"]) CHECK(voices["train"].count(v) == 0);
  for (const std::string& v : voices["val"])
    if (v.starts_with("espeak-ng:")) CHECK(voices["train"].count(v) == 0);
  for (const std::string& v : voices["train"]) CHECK((v != "flite:kal16" && v != "flite:slt"));
  // The same sentences with the numbered training voices and no perturbation: the test split's plan (each
  // utterance's transcript, voice, rate and pitch: all the script decides) is byte for byte the same. Its audio
  // is too wherever espeak-ng gives the same samples for the same line, which Debian's 1.51 does not always
  // (on a freshly set-up machine test/000000.wav came out 37 ms longer in the first corpus, not reproduced in
  // the reruns after; upstream's issue 906 reports random output from its noise-driven voices, and later
  // versions added a fixed-seed mode). So a WAV that differs is described, and must still be audio of its length.
  const std::string other = temp_path("corpus2");
  REQUIRE(std::system((std::string("bash ") + TAPEGRAD_SOURCE_DIR + "/scripts/synthesize-speech.sh --tiny --jobs 2 --voices numbered " +
                       "--perturb 0 --text " + text + " " + other + " >/dev/null").c_str()) == 0);
  auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  CHECK(bytes(dir + "/test.tsv") == bytes(other + "/test.tsv"));
  for (const std::string name : {"test/000000.wav", "test/000001.wav"}) {
    const std::string one = bytes(dir + "/" + name), two = bytes(other + "/" + name);
    CHECK(one.size() > 30000);
    if (one == two) continue;
    const Audio first = tg::audio::read_audio(dir + "/" + name), second = tg::audio::read_audio(other + "/" + name);
    size_t at = 0;
    while (at < std::min(first.samples.size(), second.samples.size()) && first.samples[at] == second.samples[at]) ++at;
    MESSAGE(name << " differs between the corpora: " << first.seconds() << " s and " << second.seconds()
                 << " s, first at sample " << at << " of " << first.samples.size() << " and " << second.samples.size()
                 << "; the plan: " << bytes(dir + "/test.tsv"));
    CHECK(first.sample_rate == second.sample_rate);
    CHECK(std::abs(first.seconds() - second.seconds()) <= 0.05 * second.seconds());
  }
  CHECK(bytes(dir + "/train.tsv") != bytes(other + "/train.tsv"));
  // A synthesizer that fails fails the corpus, naming the utterance (a failed step had left a corpus whose
  // lists name WAVs that were never written, and exited 0).
  const std::string broken = temp_path("broken"), fake_bin = temp_path("bin");
  std::system(("mkdir -p " + fake_bin + " && printf '#!/bin/sh\\nexit 3\\n' > " + fake_bin + "/flite && chmod +x " +
               fake_bin + "/flite").c_str());
  const std::string failing = "PATH=" + fake_bin + ":$PATH bash " + TAPEGRAD_SOURCE_DIR +
                              "/scripts/synthesize-speech.sh --tiny --jobs 2 --engines espeak-ng,flite --text " + text +
                              " " + broken + " >" + broken + ".log 2>&1";
  CHECK(std::system(failing.c_str()) != 0);
  CHECK(bytes(broken + ".log").find("flite failed on ") != std::string::npos);
  std::system(("rm -rf " + dir + " " + other + " " + text + " " + broken + " " + broken + ".log " + fake_bin).c_str());
}
