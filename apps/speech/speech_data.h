#pragma once
// The recogniser's data: a synthesized corpus (scripts/synthesize-speech.sh)
// read as normalised log-mel features, characters as class ids, batches
// padded to their longest utterance, and the error rates.
#include <cstdint>
#include <string>
#include <vector>

#include "data/audio/audio_file.h"
#include "data/audio/features.h"
#include "core/tensor/tensor.h"

namespace tg::speech {

// Class 0 is CTC's blank; then space, apostrophe, a–z: 29 classes.
inline constexpr int64_t kBlank = 0;
inline constexpr int64_t kClasses = 29;
// "a cat's" -> ids; throws naming the (whole UTF-8) character outside the set.
std::vector<int64_t> encode_text(const std::string& text);
std::string decode_ids(const std::vector<int64_t>& ids);

struct Utterance {
  std::string path, text, voice;
  tg::Tensor features;  // (frames, n_mels) float32, per-utterance normalised
  std::vector<int64_t> labels;
  tg::audio::Audio audio;  // the 16 kHz samples, kept with ReadOptions::keep_audio (training's augmentation)
};
// The synthesizer of a corpus voice "engine:name" (scripts/synthesize-speech.sh);
// "espeak-ng" for a voice without one (corpora made by espeak-ng alone).
std::string engine_of(const std::string& voice);

// The features the recogniser reads: 80 log-mel channels, 25 ms every 10 ms at 16 kHz.
tg::audio::MelOptions mel_options();
// Any format libsndfile reads, at any rate (resampled to 16 kHz; channels mixed). max_seconds > 0:
// longer audio is refused, naming the file, from its header before it is decoded; so is
// audio shorter than one analysis window.
tg::audio::Audio audio_of(const std::string& wav_path, double max_seconds = 0);
tg::Tensor features_of(const std::string& wav_path, double max_seconds = 0);
tg::Tensor features_of(const tg::audio::Audio& audio);
// The output frames CTC needs to spell `labels`: one each, and a blank between repeated labels.
int64_t ctc_frames_needed(const std::vector<int64_t>& labels);

struct ReadOptions {
  int64_t limit = 0;       // at most this many lines (0: all)
  double max_seconds = 0;  // > 0: longer audio is refused by name (a batch pads to its longest)
  bool keep_audio = false;  // keep each utterance's samples (Utterance::audio)
};
// DIR/<split>.tsv and its WAVs; errors name file:line. Refused: a transcript
// no CTC alignment fits in its audio, an empty one outside "train" (nothing
// to score against), audio over max_seconds. A byte-order mark is skipped.
std::vector<Utterance> read_split(const std::string& dir, const std::string& split, const ReadOptions& options = {});
// Only the transcripts of DIR/<split>.tsv.
std::vector<std::string> read_transcripts(const std::string& dir, const std::string& split);
// Any text as the recogniser writes it, as the corpus script does: lowercase;
// what is not a letter or an apostrophe becomes one space; no space at the ends.
std::string normalize_transcript(const std::string& text);

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
// The same by given lengths (training's, after the speed drawn for the epoch: a batch pads to its longest).
std::vector<std::vector<size_t>> plan_batches(const std::vector<double>& lengths, int64_t batch_size, uint64_t seed);
// `features`, when given, replaces each utterance's stored features (one per index: augmented audio's).
Batch make_batch(const std::vector<Utterance>& data, const std::vector<size_t>& indices,
                 const std::vector<tg::Tensor>& features = {});

// SpecAugment's masks (Park et al. 2019, without time warping), for training:
// per utterance, `freq_masks` bands of up to `freq_width` mel channels and
// `time_masks` spans of up to min(`time_width`, `time_ratio` × its frames)
// frames, each width and start drawn uniformly, set to 0 (the normalised mean).
struct SpecAugment {
  int64_t freq_masks = 2, freq_width = 15, time_masks = 2, time_width = 25;
  double time_ratio = 0.1;
};
void spec_augment(Batch& batch, const SpecAugment& options, uint64_t seed);

// The fewest substitutions, deletions (reference tokens the hypothesis lacks)
// and insertions (hypothesis tokens the reference lacks) that turn the
// hypothesis into the reference (Levenshtein); among equally short alignments
// the one the backtrace meets first (substitutions, then insertions).
struct Edits {
  int64_t substitutions = 0, deletions = 0, insertions = 0;
  int64_t total() const { return substitutions + deletions + insertions; }
};
Edits align(const std::vector<std::string>& hypothesis, const std::vector<std::string>& reference);
int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b);
// Character and word error rates over pairs (hypothesis, reference): edits ÷ reference length.
struct ErrorRates {
  double cer = 0, wer = 0;
  Edits char_edits, word_edits;
  int64_t chars = 0, words = 0;
};
ErrorRates error_rates(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references);

}  // namespace tg::speech
