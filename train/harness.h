#pragma once
// The training harness every program that trains runs on: the loop over
// epochs and batches, and what makes a run safe to leave alone.
//
//   - The run folder (train/run_directory.h) is claimed when the harness is
//     made, before any data is read: locked against a second run, checked
//     writable, a finished run refused unless --overwrite, a missing one
//     refused on --resume.
//   - SIGINT/SIGTERM (install_stop_signals): the batch in progress finishes,
//     last.safetensors is written with the exact position, and the resume
//     command is printed; a second signal quits at once.
//   - A non-finite loss or gradient norm stops training before that step's
//     update, saving nothing; parameters are checked before every save, so
//     neither last nor best ever holds nan or inf, and a state holding them
//     is refused on resume (train/training_checkpoint.h).
//   - The options that define the run (train/run_settings.h) are kept in
//     last.safetensors and restored on --resume, a differing one said.
//   - Progress lines, and per epoch a line, metrics.csv and best.safetensors
//     when the validation score improved (lower, or higher, is better).
//
// A program describes its training as a TrainingJob; resuming replays the
// epoch's plan (`batches(epoch)` must give the same plan for the same epoch)
// and skips the batches done, so a stopped and resumed run computes what an
// uninterrupted one does.
//
//   install_stop_signals();
//   Harness harness({.program = "speech train", .dir = o.checkpoint_dir, ...});
//   harness.restore_settings(settings);   // --resume: the run's own options
//   SpeechJob job(o, data);               // model, optimizer, schedule
//   harness.run(job);
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd/tape.h"
#include "nn/checkpoint.h"
#include "nn/module.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "train/position.h"
#include "train/run_directory.h"
#include "train/run_settings.h"

namespace tg::train {

// What one step measured, read before its update.
struct StepResult {
  double loss = 0;    // the batch's mean loss
  double weight = 1;  // what the loss is averaged over (tokens, frames): the epoch's loss weighs by it
  std::optional<double> grad_norm;  // before clipping, when computed (then checked too)
};

// Validation after an epoch: `score` picks the best (lower is better, or higher
// with higher_is_better: BLEU, accuracy); the values go to metrics.csv (named
// columns, the score's first) and the line.
struct EpochScore {
  double score = 0;
  bool higher_is_better = false;
  std::vector<std::pair<std::string, double>> values;  // e.g. {"val_cer", 0.12}, {"val_wer", 0.3}
  std::string summary;                                 // for the epoch's line: "val CER 12.00% WER 30.00%"
  std::string note;                                    // after the line's duration: "loss scale 1024, 3 steps skipped"
};

struct EpochRecord {
  int64_t epoch = 0, step = 0, steps = 0;  // 1-based epoch; updates in all at its end, and in it
  double train_loss = 0, lr = 0;
  double train_seconds = 0, seconds = 0;   // training; training and validation
  bool best = false;                       // its score was the best so far
  EpochScore score;
};

class TrainingJob {
 public:
  virtual ~TrainingJob() = default;
  virtual nn::Module& module() = 0;
  virtual optim::Optimizer& optimizer() = 0;
  virtual optim::LRSchedule* schedule() { return nullptr; }
  // What a reader needs to rebuild the model (sizes), written into last and best.
  virtual nn::Metadata model_metadata() const { return {}; }
  // What last.safetensors holds besides the state: by default model_metadata()
  // and the position as "run.<field>" (train/position.h). A job may add to it,
  // or read the keys of files written in an older format of its own.
  virtual nn::Metadata checkpoint_metadata(const Position& position) const;
  virtual Position read_position(const nn::Metadata& metadata, const std::string& path) const;
  // After a resume's load: what the job keeps beside the position (a loss scaler's state).
  virtual void on_resume(const Position& /*position*/, const nn::Metadata& /*metadata*/) {}
  // After an epoch's files and line: files of the program's own (a curve, a copy per epoch).
  virtual void after_epoch(const EpochRecord& /*record*/) {}
  // The number of batches of epoch `epoch` (0-based), planning them; the same plan for the same epoch.
  virtual int64_t plan_epoch(int64_t epoch) = 0;
  // Forward and backward of batch `batch` of the planned epoch, clipping included; no update yet.
  virtual StepResult forward_backward(int64_t epoch, int64_t batch) = 0;
  // The update the gradients call for: the optimizer's step, zero_grad, a per-step schedule.
  virtual void update() = 0;
  // After epoch `epoch` (0-based): validation, in eval mode (the harness sets train mode again).
  virtual EpochScore validate(int64_t epoch) = 0;
  // Several processes training one model: whether any of them was asked to
  // stop (all must stop at the same batch). One process: its own flag.
  virtual bool agree_stop(bool stop) { return stop; }
};

struct HarnessOptions {
  std::string program = "train";  // names the program in messages ("speech train")
  std::string dir;                // the run folder; "": nothing is saved (signals and the guard still hold)
  bool writer = true;             // false: resume reads dir, but it is neither claimed nor written (MPI ranks > 0)
  bool resume = false;            // continue dir/last.safetensors
  bool overwrite = false;         // a fresh run may replace the folder's run
  int64_t epochs = 1;             // in all, counting resumed ones
  int64_t max_steps = 0;          // > 0: stop (and save, resumably) once this many updates are done in all
  bool max_steps_ends_epoch = false;  // max_steps ends the epoch in progress instead: validated and saved as done
  std::string resume_command;     // printed on a stop ("speech train --data d --checkpoint-dir runs/speech --resume")
  std::string unit = "tok";       // what StepResult::weight counts, in the progress line ("frames/s")
  int64_t log_every = 50;         // a plain progress line every N batches (not a terminal)
  bool terminal = false;          // the progress bar rewritten in place ("\r")
  std::FILE* out = stdout;        // progress and reports; nullptr: silent
  const std::atomic<bool>* stop = nullptr;  // nullptr: the stop signals' flag (install_stop_signals)
  // The folder's files that make up a run (shell patterns): a fresh run refuses them, --overwrite removes them.
  std::vector<std::string> run_files = {"last.safetensors", "best.safetensors", "metrics.csv"};
};

struct HarnessResult {
  bool stopped = false;       // a signal or max_steps stopped it, last.safetensors written
  Position position;
  std::vector<double> losses;           // every step this call ran
  std::vector<EpochRecord> epochs;      // the epochs this call finished
};

// Ctrl-C (SIGINT) or SIGTERM (what a scheduler sends before it kills a job)
// stops the harness after the batch in progress, saved, with a line saying so
// at once; a second one quits at once (status 128 + signal). Call once, before
// training (signals/stop_signals.h).
void install_stop_signals();

// A seed for the random draws of one batch (dropout masks, augmentation):
// the same whether or not the run was stopped and resumed in between.
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch);

class Harness {
 public:
  explicit Harness(HarnessOptions options);  // claims options.dir
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // --resume: the run's settings into their variables (notes printed for the
  // given ones that differ); a fresh run: nothing. Call before building the job.
  void restore_settings(RunSettings& settings);
  // Trains to options.epochs (or a stop), resuming from last.safetensors with --resume.
  HarnessResult run(TrainingJob& job);

  std::string last_path() const;
  std::string best_path() const;
  // When the command is known only once the data is found (translate's --data-dir).
  void set_resume_command(std::string command) { options_.resume_command = std::move(command); }

 private:
  bool stop_requested() const;
  bool writes() const { return !options_.dir.empty() && options_.writer; }
  void check_parameters(TrainingJob& job) const;
  bool train_epoch(TrainingJob& job, int64_t batches, HarnessResult& result, Tape& tape);
  void end_epoch(TrainingJob& job, HarnessResult& result);
  void guard_step(const StepResult& step) const;
  void save_last(TrainingJob& job);
  void save_best(TrainingJob& job, const EpochRecord& record);
  void write_metrics(const EpochRecord& record);
  std::string last_good() const;
  void say(const std::string& text) const;  // to options.out, flushed

  HarnessOptions options_;
  std::optional<RunDirectory> run_dir_;
  RunSettings* settings_ = nullptr;  // written into every last.safetensors
  Position position_;
  int64_t saved_step_ = -1;  // the step of the last checkpoint this run can go back to; -1: none
};

}  // namespace tg::train
