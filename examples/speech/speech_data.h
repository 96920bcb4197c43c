#pragma once
// The recogniser's data: a synthesized corpus (scripts/synthesize-speech.sh)
// read as normalised log-mel features, characters as class ids, batches
// padded to their longest utterance, and the error rates.
#include <cstdint>
#include <string>
#include <vector>

#include "audio/features.h"
#include "core/tensor.h"

namespace speech {

// Class 0 is CTC's blank; then space, apostrophe, a–z: 29 classes.
inline constexpr int64_t kBlank = 0;
inline constexpr int64_t kClasses = 29;
// "a cat's" -> ids; throws naming the character outside the set.
std::vector<int64_t> encode_text(const std::string& text);
std::string decode_ids(const std::vector<int64_t>& ids);

struct Utterance {
  std::string path, text, voice;
  tg::Tensor features;  // (frames, n_mels) float32, per-utterance normalised
  std::vector<int64_t> labels;
};

// The features the recogniser reads: 80 log-mel channels, 25 ms every 10 ms at 16 kHz.
tg::audio::MelOptions mel_options();
tg::Tensor features_of(const std::string& wav_path);
// OUT_DIR/<split>.tsv and its WAVs (at most `limit` lines, 0: all); errors name file:line.
std::vector<Utterance> read_split(const std::string& dir, const std::string& split, int64_t limit = 0);

struct Batch {
  tg::Tensor features;                 // (B, n_mels, T) zero-padded, for the convolution
  std::vector<int64_t> frames;         // each utterance's frames
  tg::Tensor targets;                  // int64 (B, S) padded labels
  std::vector<int64_t> target_lengths;
  std::vector<size_t> indices;         // into the split
};
// Batches of up to `batch_size` utterances of similar length (sorted, then
// shuffled by batch with `seed`; seed 0 keeps the sorted order).
std::vector<std::vector<size_t>> plan_batches(const std::vector<Utterance>& data, int64_t batch_size, uint64_t seed);
Batch make_batch(const std::vector<Utterance>& data, const std::vector<size_t>& indices);

// Levenshtein distance between two sequences.
int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b);
// Character and word error rates over pairs (hypothesis, reference): edits ÷ reference length.
struct ErrorRates {
  double cer = 0, wer = 0;
  int64_t char_edits = 0, chars = 0, word_edits = 0, words = 0;
};
ErrorRates error_rates(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references);

}  // namespace speech
