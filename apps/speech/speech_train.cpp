#include "apps/speech/speech_train.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <tuple>

#include "core/services/generator.h"
#include "core/autograd/grad_mode.h"
#include "core/services/threads.h"
#include "nn/checkpoint.h"
#include "ops/ctc_loss.h"
#include "optim/adam.h"
#include "optim/clip_grad.h"
#include "optim/lr_schedule.h"
#include "apps/speech/shared_work.h"
#include "apps/speech/speech_eval.h"
#include "train/harness.h"

namespace tg::speech {

namespace {

using Clock = std::chrono::steady_clock;

tg::nn::Metadata config_metadata(const ModelConfig& c) {
  return {{"channels", std::to_string(c.channels)}, {"hidden", std::to_string(c.hidden)},
          {"layers", std::to_string(c.layers)}, {"dropout", fmt::format("{}", c.dropout)}};
}

// The settings that make a run what it is, bound to the options' fields.
void bind_settings(TrainOptions& o, tg::train::RunSettings& settings,
                   const std::function<bool(const std::string&)>& given) {
  for (auto [flag, value] : {std::pair{"--batch-size", &o.batch_size}, {"--limit", &o.limit}, {"--channels", &o.channels},
                             {"--hidden", &o.hidden}, {"--layers", &o.layers}, {"--warmup", &o.warmup},
                             {"--freq-masks", &o.augment.freq_masks}, {"--freq-width", &o.augment.freq_width},
                             {"--time-masks", &o.augment.time_masks}, {"--time-width", &o.augment.time_width}})
    settings.bind(flag, *value, given(flag));
  for (auto [flag, value] : {std::pair{"--lr", &o.lr}, {"--clip", &o.clip}, {"--dropout", &o.dropout},
                             {"--max-seconds", &o.max_seconds}})
    settings.bind(flag, *value, given(flag));
  // A run saved before the audio augmentation existed had none of it, and the ranges as they are now.
  AudioAugment& a = o.audio_augment;
  const AudioAugment defaults;
  for (auto [flag, value, absent] : {std::tuple{"--speed", &a.speed, 0.0}, {"--pitch", &a.pitch, 0.0}, {"--reverb", &a.reverb, 0.0},
                                     {"--noise", &a.noise, 0.0}, {"--warp", &a.warp, 0.0}, {"--rt60-low", &a.rt60_low, defaults.rt60_low},
                                     {"--rt60-high", &a.rt60_high, defaults.rt60_high}, {"--snr-low", &a.snr_low, defaults.snr_low},
                                     {"--snr-high", &a.snr_high, defaults.snr_high}}) {
    settings.bind(flag, *value, given(flag));
    settings.absent_means(flag, fmt::format("{}", absent));
  }
  settings.bind("--schedule", o.schedule, given("--schedule"));
  settings.bind("--seed", o.seed, given("--seed"));
  settings.bind("schedule-steps", o.schedule_steps);  // fixed when the run starts: more --epochs later keep the curve
}

// The recogniser's training, as the harness drives it.
class SpeechJob : public tg::train::TrainingJob {
 public:
  SpeechJob(const TrainOptions& o, const std::vector<Utterance>& train_set, const std::vector<Utterance>& val_set)
      : o_(o), train_(train_set), val_(val_set), gen_(o.seed),
        model_({.channels = o.channels, .hidden = o.hidden, .layers = o.layers, .dropout = o.dropout}, gen_) {
    model_.to(o.device);  // before the optimizer takes the parameters
    tg::optim::AdamOptions adam;
    adam.lr = o.lr;
    adam_ = std::make_unique<tg::optim::Adam>(model_.named_parameters(), adam);
    params_ = model_.parameters();
    // Cosine from lr down to lr/20 over the whole run, after a linear warm-up.
    if (o.schedule == "cosine")
      cosine_ = std::make_unique<tg::optim::CosineAnnealingLR>(*adam_, std::max<int64_t>(1, o.schedule_steps - o.warmup),
                                                               o.lr / 20, o.warmup);
  }

  tg::nn::Module& module() override { return model_; }
  tg::optim::Optimizer& optimizer() override { return *adam_; }
  tg::optim::LRSchedule* schedule() override { return cosine_.get(); }
  tg::nn::Metadata model_metadata() const override { return config_metadata(model_.config()); }
  int64_t parameter_count() const { return model_.parameter_count(); }

  // Batches of similar length as the epoch plays them: an utterance sped up by s has 1/s of its frames.
  int64_t plan_epoch(int64_t epoch) override {
    const uint64_t seed = o_.seed * 1000 + static_cast<uint64_t>(epoch + 1);
    if (o_.audio_augment.speed > 0) {
      std::vector<double> lengths;
      for (size_t u = 0; u < train_.size(); ++u)
        lengths.push_back(static_cast<double>(train_[u].features.size(0)) /
                          draw_augment(o_.audio_augment, utterance_seed(epoch, u)).speed);
      plan_ = plan_batches(lengths, o_.batch_size, seed);
    } else {
      plan_ = plan_batches(train_, o_.batch_size, seed);
    }
    return static_cast<int64_t>(plan_.size());
  }

  // What utterance u's audio changes are drawn from in an epoch.
  uint64_t utterance_seed(int64_t epoch, size_t u) const {
    return (o_.seed * 1000003 + static_cast<uint64_t>(epoch + 1)) * 1000000007ULL + u;
  }

  // The audio's changes drawn per (seed, epoch, utterance), SpecAugment and dropout masks per (seed, epoch,
  // batch): a resumed run draws the same ones.
  tg::train::StepResult forward_backward(int64_t epoch, int64_t b) override {
    const std::vector<size_t>& indices = plan_[static_cast<size_t>(b)];
    const uint64_t position = static_cast<uint64_t>((epoch + 1) * 100000 + b);
    Batch batch = make_batch(train_, indices, take_augmented(epoch, b));
    spec_augment(batch, o_.augment, o_.seed * 7919 + position);
    model_.reseed(o_.seed * 1000003 + position);
    std::vector<int64_t> frames;
    const tg::Tensor log_probs = model_.forward(batch.features.to(o_.device), batch.frames, frames);
    const tg::Tensor loss = tg::ctc_loss(log_probs, batch.targets, frames, batch.target_lengths, kBlank,
                                         tg::Reduction::mean, /*zero_infinity=*/true);
    const double value = loss.item();
    loss.backward();
    const double norm = tg::optim::clip_grad_norm(params_, o_.clip);
    return {.loss = value, .weight = static_cast<double>(indices.size()), .grad_norm = norm};
  }

  // Batch b's augmented features. The next batch's are started beside the step on one thread at background
  // priority; when the step needs them, its own thread makes those not yet begun. (A thread beside the
  // step at the usual priority slowed the step more than the features cost: on two cores the operating
  // system took turns between it and the kernels' threads.) Each utterance depends only on its seed, so
  // which thread makes it changes no bit.
  std::vector<tg::Tensor> take_augmented(int64_t epoch, int64_t b) {
    if (!o_.audio_augment.on()) return {};
    std::unique_ptr<PendingFeatures> now = std::move(next_);
    if (!now || now->epoch != epoch || now->batch != b) {  // an epoch's first batch, or a resumed run's
      now.reset();
      now = start_features(epoch, b, tg::num_threads() - 1, /*background=*/false);
    }
    now->work->finish();
    if (b + 1 < static_cast<int64_t>(plan_.size())) next_ = start_features(epoch, b + 1, 1, /*background=*/true);
    return std::move(now->features);
  }

  struct PendingFeatures {
    int64_t epoch, batch;
    std::vector<tg::Tensor> features;
    std::unique_ptr<SharedWork> work;  // after `features`: stopped before they go
  };

  // Each utterance's features from its audio changed as drawn from (seed, epoch, utterance).
  std::unique_ptr<PendingFeatures> start_features(int64_t epoch, int64_t b, int threads, bool background) const {
    auto pending = std::make_unique<PendingFeatures>();
    const std::vector<size_t>& indices = plan_[static_cast<size_t>(b)];
    pending->epoch = epoch, pending->batch = b;
    pending->features.resize(indices.size());
    pending->work = std::make_unique<SharedWork>(indices.size(), [this, epoch, indices, out = pending->features.data()](size_t i) {
      const size_t u = indices[i];
      out[i] = augmented_features(train_[u].audio, o_.audio_augment, utterance_seed(epoch, u));
    });
    pending->work->start_beside(threads, background);
    return pending;
  }

  void update() override {
    adam_->step();
    adam_->zero_grad();
    if (cosine_) cosine_->step();
  }

  tg::train::EpochScore validate(int64_t) override {
    const tg::nn::EvalMode eval(model_);
    const Decoded val = decode_split(model_, val_, 1);
    const ErrorRates rates = error_rates(val.greedy, val.references);
    return {.score = rates.cer,
            .values = {{"val_cer", rates.cer}, {"val_wer", rates.wer}},
            .summary = fmt::format("val CER {:.2f}% WER {:.2f}% (greedy)", 100 * rates.cer, 100 * rates.wer)};
  }

 private:
  const TrainOptions& o_;
  const std::vector<Utterance>& train_;
  const std::vector<Utterance>& val_;
  tg::Generator gen_;
  Recognizer model_;
  std::unique_ptr<tg::optim::Adam> adam_;
  std::unique_ptr<tg::optim::CosineAnnealingLR> cosine_;
  std::vector<tg::Tensor> params_;  // what clipping reads every step
  std::vector<std::vector<size_t>> plan_;  // the epoch's batches
  std::unique_ptr<PendingFeatures> next_;  // the next batch's augmented features, in the making
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

void train(TrainOptions& o, const std::function<bool(const std::string&)>& given) {
  tg::train::install_stop_signals();
  // The folder first: a second run, a finished run or a folder that cannot be written is refused before any data is read.
  tg::train::Harness harness({.program = "speech train",
                              .dir = o.checkpoint_dir,
                              .resume = o.resume,
                              .overwrite = o.overwrite,
                              .epochs = o.epochs,
                              .max_steps = o.max_steps,
                              .resume_command = o.resume_command,
                              .unit = "utt"});
  tg::train::RunSettings settings;
  bind_settings(o, settings, given);
  harness.restore_settings(settings);

  const Clock::time_point start = Clock::now();
  const ReadOptions reading{.limit = o.limit, .max_seconds = o.max_seconds};
  ReadOptions training = reading;
  training.keep_audio = o.audio_augment.on();  // the augmentation reads the waveforms every epoch
  const std::vector<Utterance> train_set = read_split(o.data, "train", training);
  const std::vector<Utterance> val_set = read_split(o.data, "val", reading);
  fmt::print("data: {} train, {} val utterances from {} (features {:.1f} s)\n", train_set.size(), val_set.size(), o.data,
             seconds_since(start));
  if (o.schedule_steps == 0)
    o.schedule_steps = o.epochs * ((static_cast<int64_t>(train_set.size()) + o.batch_size - 1) / o.batch_size);
  SpeechJob job(o, train_set, val_set);
  fmt::print("model: {} parameters (conv {}, GRU {}x{} bidirectional, dropout {}), batch {}, lr {} ({}), seed {}, on {}\n",
             job.parameter_count(), o.channels, o.layers, o.hidden, o.dropout, o.batch_size, o.lr, o.schedule, o.seed,
             o.device.str());
  fmt::print("SpecAugment: {} frequency masks of up to {} channels, {} time masks of up to {} frames ({:.0f}% of each)\n",
             o.augment.freq_masks, o.augment.freq_width, o.augment.time_masks, o.augment.time_width,
             100 * o.augment.time_ratio);
  fmt::print("audio augmentation: {}\n", describe(o.audio_augment));
  std::fflush(stdout);
  const tg::train::HarnessResult result = harness.run(job);
  if (!result.stopped && !result.epochs.empty())
    fmt::print("done: {} steps in {:.0f} s; best validation CER in {}\n", result.position.step, seconds_since(start),
               harness.best_path());
}

}  // namespace tg::speech
