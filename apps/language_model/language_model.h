#pragma once
// Training a word-level GRU language model (word_model.h) on the English side
// of Multi30k, and sampling text from it.
//
//   each sentence:  input  <bos> w1 .. wn        target  w1 .. wn <eos>
//   loss            mean cross entropy over the batch's real target tokens (padding ignored)
//   perplexity      exp(Σ −log P(target) / number of targets) over every validation
//                   sentence, <eos> included, padding excluded
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/text/vocab.h"
#include "nn/checkpoint.h"
#include "apps/language_model/word_model.h"

namespace tg::language_model {

struct LanguageModelOptions {
  std::string data_dir;  // holds train.lc.norm.tok.en.gz and val.lc.norm.tok.en.gz
                         // ("": text::find_multi30k_dir's search)
  int64_t min_freq = 2;  // words seen fewer times in training become <unk>
  WordModelConfig model;  // vocab is filled in from the data
  int epochs = 5;
  int64_t batch_size = 64;
  double lr = 2e-3;       // Adam
  double clip = 1.0;      // max gradient norm (0: off)
  uint64_t seed = 1;      // weights, dropout masks and batch order
  int64_t limit_train = 0;  // > 0: only the first N training sentences
  int64_t max_steps = 0;    // > 0: stop after N updates in all: with a checkpoint_dir resumably, else the
                            // epoch in progress is evaluated as the last
  std::string save_path;    // when set, the best checkpoint by validation perplexity
  // The run folder (train/harness.h): last.safetensors (resumable; Ctrl-C and
  // SIGTERM save it), best.safetensors, metrics.csv. "": nothing but save_path is written.
  std::string checkpoint_dir;
  bool resume = false;      // continue checkpoint_dir's run, with its own settings
  bool overwrite = false;   // let save_path, or the run in checkpoint_dir, be replaced (refused otherwise, before training)
  int64_t log_every = 100;  // a progress line every N updates
  Device device = Device::cpu();  // where the model and its batches live
  // Matrix products on inputs rounded to fp32 (none), tf32, bf16 or fp16
  // (core/dispatch/matmul_precision.h), during training and validation; fp16 adds
  // dynamic loss scaling (train/grad_scaler.h).
  std::string precision = "fp32";
  std::function<void(const std::string&)> log;  // progress lines; none when empty
};

// A model with the vocabulary it was trained with.
struct LanguageModel {
  text::Vocab vocab;
  std::unique_ptr<WordModel> model;
};

struct EpochResult {
  int epoch = 0;
  int64_t steps = 0;
  double train_loss = 0;      // token-weighted mean cross entropy over the epoch
  double val_perplexity = 0;
  double seconds = 0;         // training time, without validation
};

struct LanguageModelReport {
  std::vector<double> train_loss_per_step;
  std::vector<EpochResult> epochs;
  double val_perplexity = 0;  // of the best epoch, whose weights `trained` holds
  int best_epoch = 0;
  int64_t train_sentences = 0, train_tokens = 0, val_sentences = 0, val_tokens = 0;
  int64_t skipped_steps = 0;  // fp16: updates skipped because a gradient overflowed
  double loss_scale = 0;      // fp16: the scale at the end (0 otherwise)
  LanguageModel trained;
};

// Trains on the harness (train/harness.h). `given(flag)`: whether the command
// line set a flag, so that a resumed run says when one differs from the run's.
LanguageModelReport train_language_model(const LanguageModelOptions& options,
                                         const std::function<bool(const std::string&)>& given = {});

// exp(mean −log P) over every target token of `sentences` (tokenized).
double perplexity(const LanguageModel& lm, const std::vector<std::vector<std::string>>& sentences,
                  int64_t batch_size = 128);

// Checkpoints: the parameters with the vocabulary and sizes in the metadata
// (language_model_metadata), which a run folder's last and best hold too.
nn::Metadata language_model_metadata(const LanguageModel& lm);
void save_language_model(const LanguageModel& lm, const std::string& path, double val_perplexity, int epoch);
// The model comes back on `device`; checkpoints do not depend on the device that wrote them.
LanguageModel load_language_model(const std::string& path, Device device = Device::cpu());

struct GenerateOptions {
  double temperature = 1.0;  // softmax(logits / temperature); 0 = greedy (most likely word)
  int64_t max_words = 20;
  uint64_t seed = 0;
};

// Continues `prompt` (tokens, as tokenize(…, "en") gives them) word by word
// on the model's device, until <eos> or max_words; returns the new words only.
// <pad>, <bos> and <unk> are never produced.
std::vector<std::string> generate(const LanguageModel& lm, const std::vector<std::string>& prompt,
                                  const GenerateOptions& options);

}  // namespace tg::language_model
