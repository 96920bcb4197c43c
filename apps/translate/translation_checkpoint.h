#pragma once
// A translation checkpoint: one safetensors file (train/training_checkpoint.h) holding the
// model's parameters, optionally the optimizer's state, and string metadata
// enough to rebuild and use the model without the training data:
//
//   translate.format   "tapegrad.translate.v1"
//   model.kind/cell/embed/hidden/dropout/src_vocab/tgt_vocab    the ModelConfig
//                      (model.cell is "gru" or "lstm"; "gru" when missing, as in older files)
//   vocab.src, vocab.tgt                                   Vocab::to_string()
//   vocab.shared       "true": a joint vocabulary, written once (no vocab.tgt, subword.tgt)
//   vocab.kind         "word" (also when missing, as in older files) or "subword"
//   translate.weights  "int8" in an int8 checkpoint (int8_checkpoint.h); float32 when missing
//   subword.src, subword.tgt   with subwords: the SentencePiece models, base64
//                      (their pieces are vocab.src / vocab.tgt, id for id)
//   train.*            settings that fix the run (seed, batch size, max-len,
//                      min-freq, limit-train, clip, schedule, precision) and,
//                      with fp16, the loss scaler's scale and good steps
//   run.*              the run's position, in the training harness's keys
//                      (train/position.h): epochs finished, batches of the next
//                      done, global step, the epoch's loss and token sums, best
//                      BLEU so far. Checkpoints written before translate used
//                      them hold train.epoch, train.batch, train.step,
//                      train.best_bleu (-1: none yet), train.epoch_loss_sum,
//                      train.epoch_tokens and train.epoch_seconds instead,
//                      read the same (read_run_position)
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/text/vocab.h"
#include "data/text/text_codec.h"
#include "train/training_checkpoint.h"
#include "train/position.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "apps/translate/models/seq2seq.h"

namespace tg::translate {

inline constexpr const char* kCheckpointFormat = "tapegrad.translate.v1";

// What fixes a training run's sequence of batches, dropout masks and updates.
struct TrainSettings {
  uint64_t seed = 1;
  int64_t batch_size = 64;
  int64_t max_len = 50;
  int64_t min_freq = 2;
  double label_smoothing = 0;  // ε of the training loss (cross_entropy's label smoothing)
  int64_t limit_train = 0;  // 0: all pairs
  double clip = 1.0;
  std::string lr_schedule = "none";  // none, plateau (per epoch), cosine or inverse-sqrt (per step)
  int64_t warmup_steps = 0;          // cosine, inverse-sqrt: linear warm-up over the first steps
  double min_lr = 0;                 // cosine: the lr at its end
  int64_t schedule_steps = 0;        // cosine: its length in steps, fixed when the run starts (--epochs × batches)
  std::string precision = "fp32";    // of the matrix products: fp32, tf32, bf16 or fp16 (with loss scaling)
};

// Precision fp16: the loss scaler's state when the checkpoint was written.
struct LossScale {
  double scale = 0;  // 0: not started
  int64_t good_steps = 0;  // steps without overflow in a row
};

struct CheckpointInfo {
  std::string weights = "float32";  // "int8": an int8 checkpoint for decoding (int8_checkpoint.h)
  ModelConfig config;
  text::TextCodec codec = text::TextCodec::words();  // how text becomes tokens: words, or subwords with their models
  text::Vocab src_vocab, tgt_vocab;
  TrainSettings settings;
  train::Position position;  // best: BLEU, higher is better; loss weight: target tokens
  LossScale loss_scale;
};

// The metadata pairs of `info` and the inverse; parse names `path` in errors.
nn::Metadata checkpoint_metadata(const CheckpointInfo& info);
CheckpointInfo parse_checkpoint_metadata(const nn::Metadata& metadata, const std::string& path);

// The run's position in a checkpoint's metadata: the harness's run.* keys, or
// the train.* keys of a checkpoint written before translate used them.
train::Position read_run_position(const nn::Metadata& metadata, const std::string& path);

// Reads and checks a checkpoint's metadata and parameter shapes without
// building the model. Errors name the path: missing file, not a safetensors
// file, not a translation checkpoint (format tag missing or unknown), a
// vocabulary whose size does not match the parameters.
CheckpointInfo read_checkpoint_info(const std::string& path);

struct Translator {
  CheckpointInfo info;
  std::unique_ptr<Seq2Seq> model;
};

// read_checkpoint_info, then the model with the file's parameters on
// `device`, in eval mode. Checkpoints do not depend on the device that wrote them.
Translator load_translator(const std::string& path, Device device = Device::cpu());

// Whether two checkpoints read and write the same tokens: equal vocabularies
// and the same kind (word or subword).
bool same_vocabularies(const CheckpointInfo& a, const CheckpointInfo& b);

// Several checkpoints decoded as one ensemble (apps/translate/models/ensemble.h: the mean of
// their log-probabilities at each step); one path is load_translator. The
// checkpoints must share vocabularies (and subword models) and model kind;
// `info` is the first's.
Translator load_translators(const std::vector<std::string>& paths, Device device = Device::cpu());

// Model parameters only (best.safetensors), or with the optimizer (and the
// schedule's counters) for resuming (last.safetensors).
void save_model_checkpoint(const std::string& path, const Seq2Seq& model, const CheckpointInfo& info);
void save_training_checkpoint(const std::string& path, const Seq2Seq& model, const optim::Optimizer& optimizer,
                              const optim::LRSchedule* schedule, const CheckpointInfo& info);

}  // namespace tg::translate
