#pragma once
// Training the recogniser on the harness (train/harness.h): the run folder,
// Ctrl-C/SIGTERM saving a resumable last.safetensors, the non-finite guard,
// and the run's settings kept and restored on --resume.
//
// Every step: the audio augmentation (audio_augment.h) drawn per utterance
// from (seed, epoch, utterance), SpecAugment and dropout seeded by (seed,
// epoch, batch), CTC
// loss (mean over the batch), backward, clipping to --clip, Adam, the cosine
// schedule. Every epoch: greedy CER and WER on the validation split; best is
// the lowest CER.
#include <cstdint>
#include <functional>
#include <string>

#include "core/types/device.h"
#include "apps/speech/audio_augment.h"
#include "apps/speech/speech_data.h"
#include "apps/speech/speech_model.h"

namespace tg::speech {

struct TrainOptions {
  std::string data, checkpoint_dir = "runs/speech";
  int64_t epochs = 12, max_steps = 0;
  bool resume = false, overwrite = false;
  // The run's settings: kept in last.safetensors, restored on --resume.
  int64_t batch_size = 32, limit = 0, channels = 256, hidden = 256, layers = 3, warmup = 300;
  double lr = 1e-3, clip = 5.0, dropout = 0.1, max_seconds = 30;
  std::string schedule = "cosine";
  uint64_t seed = 1;
  SpecAugment augment;
  AudioAugment audio_augment;
  int64_t schedule_steps = 0;  // the cosine's length, fixed when a run starts (0: --epochs × batches)
  tg::Device device = tg::Device::cpu();
  std::string resume_command;  // printed when a signal stops the run
};

// Trains to options.epochs, or until a signal or --max-steps stops it.
// `given(flag)`: whether the command line set a flag (a resumed run says when
// one differs from the run's). On --resume the run's settings are written
// back into `options`.
void train(TrainOptions& options, const std::function<bool(const std::string&)>& given);

}  // namespace tg::speech
