#include "apps/speech/speech_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "data/audio/audio_file.h"
#include "data/audio/resample.h"
#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "ops/reshape.h"
#include "ops/transpose.h"
#include "apps/speech/speech_model.h"  // Recognizer::frames_after

namespace tg::speech {

namespace {
const std::string kAlphabet = " 'abcdefghijklmnopqrstuvwxyz";  // ids 1 … 28

std::vector<std::string> chars_of(const std::string& s) {
  std::vector<std::string> out;
  for (const char c : s) out.emplace_back(1, c);
  return out;
}

std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
}  // namespace

// The whole UTF-8 character starting at text[at] (one byte when it is not valid UTF-8).
std::string character_at(const std::string& text, size_t at) {
  const unsigned char lead = static_cast<unsigned char>(text[at]);
  const size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
  for (size_t k = 1; k < length; ++k)
    if (at + k >= text.size() || (static_cast<unsigned char>(text[at + k]) >> 6) != 0x2) return text.substr(at, 1);
  return text.substr(at, length);
}

std::vector<int64_t> encode_text(const std::string& text) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t at = kAlphabet.find(text[i]);
    if (at == std::string::npos)
      tg::fail("'{}' in \"{}\" is not a character the recogniser writes (a-z, space, apostrophe)", character_at(text, i),
               text);
    ids.push_back(static_cast<int64_t>(at) + 1);
  }
  return ids;
}

std::string decode_ids(const std::vector<int64_t>& ids) {
  std::string text;
  for (const int64_t id : ids)
    if (id >= 1 && id < kClasses) text += kAlphabet[static_cast<size_t>(id - 1)];
  return text;
}

tg::audio::MelOptions mel_options() { return {.n_fft = 400, .win_length = 400, .hop_length = 160, .n_mels = 80}; }

tg::audio::Audio audio_of(const std::string& wav_path, double max_seconds) {
  // The length from the header first: an hour of FLAC is a few hundred KB to send and ~400 MB to decode.
  const tg::audio::AudioInfo info = tg::audio::probe_audio(wav_path);
  if (max_seconds > 0 && info.seconds() > max_seconds)
    tg::fail("{} lasts {:.1f} s, more than --max-seconds {} (a batch pads every utterance to its longest): cut it, "
             "leave it out, or raise --max-seconds",
             wav_path, info.seconds(), max_seconds);
  // Any rate is heard at 16 kHz (channels were mixed by read_audio).
  tg::audio::Audio audio = tg::audio::resample(tg::audio::read_audio(wav_path), 16000);
  const tg::audio::MelOptions mel = mel_options();
  if (static_cast<int64_t>(audio.samples.size()) < mel.win_length)
    tg::fail("{} holds {} samples ({:.1f} ms); the recogniser needs at least {} ({:.0f} ms at 16 kHz), one analysis "
             "window",
             wav_path, audio.samples.size(), 1000.0 * audio.seconds(), mel.win_length, 1000.0 * mel.win_length / 16000);
  return audio;
}

tg::Tensor features_of(const tg::audio::Audio& audio) {
  return tg::audio::normalize_utterance(tg::audio::log_mel(audio, mel_options()));
}

tg::Tensor features_of(const std::string& wav_path, double max_seconds) { return features_of(audio_of(wav_path, max_seconds)); }

std::string engine_of(const std::string& voice) {
  const size_t colon = voice.find(':');
  return colon == std::string::npos ? "espeak-ng" : voice.substr(0, colon);
}

int64_t ctc_frames_needed(const std::vector<int64_t>& labels) {
  int64_t needed = static_cast<int64_t>(labels.size());
  for (size_t i = 1; i < labels.size(); ++i) needed += labels[i] == labels[i - 1];  // a blank between repeats
  return needed;
}

namespace {
// Calls row(fields) for each line of DIR/<split>.tsv, at most `limit` lines (0: all); an error
// row throws comes back naming the file and line.
template <typename Row>
void read_tsv(const std::string& dir, const std::string& split, int64_t limit, Row row) {
  const std::string tsv = dir + "/" + split + ".tsv";
  std::ifstream in(tsv);
  if (!in) tg::fail("cannot read {} (make a corpus with scripts/synthesize-speech.sh {})", tsv, dir);
  int64_t line_number = 0;
  for (std::string line; std::getline(in, line) && (limit <= 0 || line_number < limit);) {
    ++line_number;
    if (line_number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a byte-order mark, as editors write
    if (!line.empty() && line.back() == '\r') line.pop_back();                     // a file from Windows
    std::vector<std::string> fields;
    std::stringstream cells(line);
    for (std::string field; std::getline(cells, field, '\t');) fields.push_back(field);
    if (fields.size() < 2) tg::fail("{}:{}: expected 'path<TAB>transcript[<TAB>voice...]', got \"{}\"", tsv, line_number, line);
    try {
      row(fields);
    } catch (const tg::Error& e) {
      tg::fail("{}:{}: {}", tsv, line_number, e.what());
    }
  }
  if (line_number == 0) tg::fail("{} holds no utterances", tsv);
}
}  // namespace

std::vector<Utterance> read_split(const std::string& dir, const std::string& split, const ReadOptions& options) {
  std::vector<Utterance> out;
  read_tsv(dir, split, options.limit, [&](const std::vector<std::string>& fields) {
    Utterance u;
    u.path = dir + "/" + fields[0];
    u.text = fields[1];
    u.voice = fields.size() > 2 ? fields[2] : "";
    u.labels = encode_text(u.text);
    if (u.labels.empty() && split != "train")
      tg::fail("the transcript of {} is empty: error rates are counted per reference character, so {} cannot score it; "
               "give its text or leave the line out",
               u.path, split);
    u.audio = audio_of(u.path, options.max_seconds);
    u.features = features_of(u.audio);
    if (!options.keep_audio) u.audio = {};
    if (u.features.size(0) < 8) tg::fail("{} is shorter than 8 frames", u.path);
    const int64_t frames = Recognizer::frames_after(u.features.size(0)), needed = ctc_frames_needed(u.labels);
    if (needed > frames)
      tg::fail("the transcript of {} ({} characters, {} output frames needed with the blanks between repeated "
               "letters) is longer than the audio allows ({:.2f} s give {} output frames): no CTC alignment fits; check "
               "that the line's audio and text belong together",
               u.path, u.labels.size(), needed, static_cast<double>(u.features.size(0)) / 100.0, frames);
    out.push_back(std::move(u));
  });
  return out;
}

std::vector<std::string> read_transcripts(const std::string& dir, const std::string& split) {
  std::vector<std::string> out;
  read_tsv(dir, split, 0, [&](const std::vector<std::string>& fields) {
    encode_text(fields[1]);  // checks its characters
    out.push_back(fields[1]);
  });
  return out;
}

std::string normalize_transcript(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const bool kept = lower == '\'' || (lower >= 'a' && lower <= 'z');
    if (kept) out += lower;
    else if (!out.empty() && out.back() != ' ') out += ' ';
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<Utterance>& data, int64_t batch_size, uint64_t seed) {
  std::vector<double> lengths;
  for (const Utterance& u : data) lengths.push_back(static_cast<double>(u.features.size(0)));
  return plan_batches(lengths, batch_size, seed);
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<double>& lengths, int64_t batch_size, uint64_t seed) {
  std::vector<size_t> order(lengths.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(batch_size))
    batches.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + static_cast<size_t>(batch_size)));
  if (seed != 0) std::shuffle(batches.begin(), batches.end(), std::mt19937_64(seed));
  return batches;
}

Batch make_batch(const std::vector<Utterance>& data, const std::vector<size_t>& indices,
                 const std::vector<tg::Tensor>& features) {
  if (!features.empty() && features.size() != indices.size())
    tg::fail("make_batch: {} feature matrices for {} utterances", features.size(), indices.size());
  auto features_of_row = [&](size_t b) -> const tg::Tensor& { return features.empty() ? data[indices[b]].features : features[b]; };
  Batch batch;
  batch.indices = indices;
  const int64_t B = static_cast<int64_t>(indices.size());
  const int64_t mels = features_of_row(0).size(1);
  int64_t longest = 0, longest_text = 0;
  for (size_t b = 0; b < indices.size(); ++b) {
    longest = std::max(longest, features_of_row(b).size(0));
    longest_text = std::max(longest_text, static_cast<int64_t>(data[indices[b]].labels.size()));
  }
  std::vector<float> padded(static_cast<size_t>(B * longest * mels), 0.0f);  // (B, T, mels)
  const int64_t label_columns = std::max<int64_t>(longest_text, 1);  // (B, 0) would be an empty target matrix
  std::vector<int64_t> labels(static_cast<size_t>(B * label_columns), 1);
  for (int64_t b = 0; b < B; ++b) {
    const Utterance& u = data[indices[b]];
    const tg::Tensor& row = features_of_row(static_cast<size_t>(b));
    const std::vector<float> f = row.to_vector<float>();
    std::copy(f.begin(), f.end(), padded.begin() + b * longest * mels);
    batch.frames.push_back(row.size(0));
    std::copy(u.labels.begin(), u.labels.end(), labels.begin() + b * label_columns);
    batch.target_lengths.push_back(static_cast<int64_t>(u.labels.size()));
  }
  batch.features = tg::transpose(tg::from_vector(padded, tg::Shape{B, longest, mels}, {tg::DType::f32}), 1, 2).contiguous();
  batch.targets = tg::from_vector(labels, tg::Shape{B, label_columns}, {tg::DType::i64});
  return batch;
}

void spec_augment(Batch& batch, const SpecAugment& options, uint64_t seed) {
  if (options.freq_masks == 0 && options.time_masks == 0) return;
  const int64_t B = batch.features.size(0), mels = batch.features.size(1), T = batch.features.size(2);
  std::vector<float> x = batch.features.to_vector<float>();  // (B, mels, T)
  std::mt19937_64 rng(seed);
  auto draw = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int64_t b = 0; b < B; ++b) {
    float* u = x.data() + b * mels * T;
    const int64_t frames = batch.frames[static_cast<size_t>(b)];
    for (int64_t m = 0; m < options.freq_masks; ++m) {
      const int64_t width = draw(0, std::min(options.freq_width, mels)), start = draw(0, mels - width);
      std::fill(u + start * T, u + (start + width) * T, 0.0f);
    }
    const int64_t longest = std::min(options.time_width, static_cast<int64_t>(options.time_ratio * static_cast<double>(frames)));
    for (int64_t m = 0; m < options.time_masks; ++m) {
      const int64_t width = draw(0, longest), start = draw(0, frames - width);
      for (int64_t c = 0; c < mels; ++c) std::fill(u + c * T + start, u + c * T + start + width, 0.0f);
    }
  }
  batch.features = tg::from_vector(x, batch.features.shape(), {tg::DType::f32});
}

Edits align(const std::vector<std::string>& hypothesis, const std::vector<std::string>& reference) {
  const size_t n = hypothesis.size(), m = reference.size();
  std::vector<int64_t> cost((n + 1) * (m + 1));  // cost[i][j]: first i hypothesis tokens to first j reference ones
  auto at = [&](size_t i, size_t j) -> int64_t& { return cost[i * (m + 1) + j]; };
  for (size_t i = 0; i <= n; ++i) at(i, 0) = static_cast<int64_t>(i);
  for (size_t j = 0; j <= m; ++j) at(0, j) = static_cast<int64_t>(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j)
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1,
                           at(i - 1, j - 1) + (hypothesis[i - 1] == reference[j - 1] ? 0 : 1)});
  Edits edits;
  for (size_t i = n, j = m; i > 0 || j > 0;) {
    if (i > 0 && j > 0 && at(i, j) == at(i - 1, j - 1) + (hypothesis[i - 1] == reference[j - 1] ? 0 : 1)) {
      if (hypothesis[i - 1] != reference[j - 1]) ++edits.substitutions;
      --i, --j;
    } else if (i > 0 && at(i, j) == at(i - 1, j) + 1) {
      ++edits.insertions, --i;
    } else {
      ++edits.deletions, --j;
    }
  }
  return edits;
}

int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) { return align(a, b).total(); }

ErrorRates error_rates(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
  if (hypotheses.size() != references.size())
    tg::fail("error_rates: {} hypotheses for {} references", hypotheses.size(), references.size());
  ErrorRates r;
  auto add = [](Edits& sum, const Edits& e) {
    sum.substitutions += e.substitutions, sum.deletions += e.deletions, sum.insertions += e.insertions;
  };
  for (size_t i = 0; i < references.size(); ++i) {
    add(r.char_edits, align(chars_of(hypotheses[i]), chars_of(references[i])));
    r.chars += static_cast<int64_t>(references[i].size());
    const std::vector<std::string> ref_words = words_of(references[i]);
    add(r.word_edits, align(words_of(hypotheses[i]), ref_words));
    r.words += static_cast<int64_t>(ref_words.size());
  }
  if (r.chars == 0)
    tg::fail("error_rates: the {} references hold no characters; a rate per reference character is not defined",
             references.size());
  r.cer = r.chars > 0 ? static_cast<double>(r.char_edits.total()) / static_cast<double>(r.chars) : 0;
  r.wer = r.words > 0 ? static_cast<double>(r.word_edits.total()) / static_cast<double>(r.words) : 0;
  return r;
}

}  // namespace tg::speech
