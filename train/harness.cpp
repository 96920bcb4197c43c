#include "train/harness.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "core/services/error.h"
#include "core/services/generator.h"
#include "core/autograd/grad_mode.h"
#include "io/safetensors.h"
#include "io/text_file.h"
#include "signals/stop_signals.h"
#include "train/training_checkpoint.h"
#include "train/finite.h"
#include "train/progress.h"

namespace tg::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// What the first SIGINT or SIGTERM says, from the signal handler.
const char* stop_announcement(int signal) {
  return signal == SIGTERM
             ? "\nterminated (SIGTERM): stopping after this batch and saving (a second SIGTERM quits at once)\n"
             : "\ninterrupted: stopping after this batch and saving (Ctrl-C again to quit at once)\n";
}

// The rows of metrics.csv (header first) of the epochs up to `epochs`, from a resumed run's file.
std::vector<std::string> kept_metrics(const std::string& path, int64_t epochs) {
  std::vector<std::string> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (rows.empty() || std::atoll(line.c_str()) <= epochs) rows.push_back(line);
  return rows;
}

}  // namespace

nn::Metadata TrainingJob::checkpoint_metadata(const Position& position) const {
  nn::Metadata metadata = model_metadata();
  write_run_position(position, metadata);
  return metadata;
}

Position TrainingJob::read_position(const nn::Metadata& metadata, const std::string& path) const {
  return read_run_position(metadata, path);
}

void install_stop_signals() {
  signals::catch_stop_signals(
      {.signals = {SIGINT, SIGTERM}, .second = signals::SecondSignal::exits, .announce = stop_announcement});
}

uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch) {
  Generator mixer(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(epoch + 1)) ^
                  (0xBF58476D1CE4E5B9ULL * static_cast<uint64_t>(batch + 1)));
  return mixer.next_u64();
}

Harness::Harness(HarnessOptions options) : options_(std::move(options)) {
  if (options_.epochs < 1) fail("{}: --epochs must be at least 1, got {}", options_.program, options_.epochs);
  if (options_.dir.empty()) {
    if (options_.resume) fail("{}: --resume needs the run's folder", options_.program);
    return;
  }
  if (!options_.writer) return;
  RunDirectoryOptions claim{.resume = options_.resume,
                            .overwrite = options_.overwrite,
                            .run_files = options_.run_files,
                            .program = options_.program};
  run_dir_.emplace(options_.dir, claim);
  std::error_code ec;
  if (options_.resume && !std::filesystem::exists(last_path(), ec))
    fail("{}: cannot resume: '{}' does not exist (train without --resume first, or give the run's folder)",
         options_.program, last_path());
}

std::string Harness::last_path() const { return options_.dir + "/last.safetensors"; }
std::string Harness::best_path() const { return options_.dir + "/best.safetensors"; }

void Harness::say(const std::string& text) const {
  if (options_.out == nullptr || text.empty()) return;
  std::fputs(text.c_str(), options_.out);
  std::fflush(options_.out);
}

void Harness::restore_settings(RunSettings& settings) {
  settings_ = &settings;
  if (!options_.resume) return;
  const nn::Metadata metadata = load_safetensors(last_path()).metadata;
  for (const std::string& note : settings.restore_from(metadata, last_path())) say("note: " + note + "\n");
}

bool Harness::stop_requested() const {
  return (options_.stop != nullptr ? options_.stop : &signals::stop_requested())->load();
}

std::string Harness::last_good() const {
  if (saved_step_ < 0) return "no checkpoint was written yet";
  return fmt::format("the last good checkpoint is '{}' (step {}); resume from it with --resume, or start again with "
                     "a smaller --lr or with --clip",
                     last_path(), saved_step_);
}

HarnessResult Harness::run(TrainingJob& job) {
  HarnessResult result;
  if (options_.resume) {
    const nn::Metadata metadata = load(job.module(), job.optimizer(), last_path(), {}, job.schedule());
    position_ = job.read_position(metadata, last_path());
    saved_step_ = position_.step;
    job.on_resume(position_, metadata);
    say(fmt::format("resumed from {}: epoch {}, batch {} done, step {}\n", last_path(), position_.epoch + 1,
                    position_.batch, position_.step));
  }
  if (position_.epoch >= options_.epochs) {
    say(fmt::format("nothing to train: {} epoch{} of --epochs {} finished already (raise --epochs to go on)\n",
                    position_.epoch, position_.epoch == 1 ? "" : "s", options_.epochs));
  } else if (options_.max_steps > 0 && position_.step >= options_.max_steps) {
    say(fmt::format("nothing to train: step {} reached --max-steps {} already\n", position_.step, options_.max_steps));
  }
  Tape tape;
  TapeScope use_tape(tape);
  while (position_.epoch < options_.epochs && !(options_.max_steps > 0 && position_.step >= options_.max_steps)) {
    if (!train_epoch(job, job.plan_epoch(position_.epoch), result, tape)) {
      result.stopped = true;
      break;
    }
    end_epoch(job, result);
    if (job.agree_stop(stop_requested())) {  // the signal came during validation: the epoch is saved whole
      say(fmt::format("stopped after epoch {} (step {}); {}\n", position_.epoch, position_.step,
                      writes() ? fmt::format("saved {}\nresume with: {}", last_path(), options_.resume_command)
                               : std::string("nothing saved (no run folder)")));
      result.stopped = true;
      break;
    }
  }
  result.position = position_;
  return result;
}

// The batches of the epoch from position_.batch on; false when a stop saved the run mid-epoch.
bool Harness::train_epoch(TrainingJob& job, int64_t batches, HarnessResult& result, Tape& tape) {
  const int64_t epoch = position_.epoch;
  ProgressLine bar(epoch + 1, batches, options_.terminal, options_.log_every, options_.unit);
  const Clock::time_point start = Clock::now();
  const double seconds_before = position_.seconds;
  double session_weight = 0;
  int64_t session_batches = 0;
  job.module().train();
  for (int64_t b = position_.batch; b < batches; ++b) {
    const StepResult step = job.forward_backward(epoch, b);
    tape.clear();
    guard_step(step);
    job.update();
    ++position_.step;
    position_.batch = b + 1;
    position_.loss_sum += step.loss * step.weight;
    position_.loss_weight += step.weight;
    result.losses.push_back(step.loss);
    session_weight += step.weight;
    ++session_batches;

    const double elapsed = seconds_since(start);
    const double eta = elapsed / static_cast<double>(session_batches) * static_cast<double>(batches - b - 1);
    const double running = position_.loss_sum / position_.loss_weight;
    const std::string progress = bar.update(b + 1, running, session_weight / std::max(elapsed, 1e-9), eta);
    say(progress);
    const bool stop = job.agree_stop(stop_requested());  // several processes: all agree, every batch
    const bool at_max_steps = options_.max_steps > 0 && position_.step >= options_.max_steps;
    if (at_max_steps && options_.max_steps_ends_epoch) break;
    if (stop || at_max_steps) {  // after the epoch's last batch too: a resumed run validates it
      if (!options_.terminal && progress.empty())
        say(bar.text(b + 1, running, session_weight / std::max(elapsed, 1e-9), eta) + "\n");
      say(bar.finish());
      position_.seconds = seconds_before + seconds_since(start);
      if (!writes()) {
        say(fmt::format("stopped at epoch {}, batch {}/{} (step {}); nothing saved (no run folder)\n", epoch + 1,
                        position_.batch, batches, position_.step));
        return false;
      }
      save_last(job);
      say(fmt::format("stopped at epoch {}, batch {}/{} (step {}); saved {}\nresume with: {}\n", epoch + 1,
                      position_.batch, batches, position_.step, last_path(), options_.resume_command));
      return false;
    }
  }
  say(bar.finish());
  position_.seconds = seconds_before + seconds_since(start);
  return true;
}

void Harness::guard_step(const StepResult& step) const {
  auto stop_if_non_finite = [&](const char* what, double value) {
    if (std::isfinite(value)) return;
    fail("{}: training stopped at epoch {}, step {}: the {} is {}; this step's update was not applied and nothing was "
         "saved; {}",
         options_.program, position_.epoch + 1, position_.step + 1, what, non_finite_name(value), last_good());
  };
  stop_if_non_finite("loss", step.loss);
  if (step.grad_norm) stop_if_non_finite("gradient norm", *step.grad_norm);
}

// Validation, then last (always), best (when the score improved), metrics.csv and the epoch's line.
void Harness::end_epoch(TrainingJob& job, HarnessResult& result) {
  check_parameters(job);  // before validating: nothing is measured or saved of non-finite parameters
  EpochRecord record;
  record.epoch = position_.epoch + 1;
  record.step = position_.step;
  record.steps = position_.batch;
  record.train_seconds = position_.seconds;
  record.train_loss = position_.loss_weight > 0 ? position_.loss_sum / position_.loss_weight : 0.0;
  record.lr = job.optimizer().lr();
  const Clock::time_point start = Clock::now();
  {
    NoGrad no_grad;
    record.score = job.validate(position_.epoch);
  }
  job.module().train();
  record.seconds = position_.seconds + seconds_since(start);
  const bool higher = record.score.higher_is_better;
  if (position_.best && position_.best_is_higher != higher)
    position_.best = -*position_.best;  // a run saved while its score was kept the other way (BLEU as −BLEU)
  const bool scored = std::isfinite(record.score.score);
  const bool improved = scored && (!position_.best || (higher ? record.score.score > *position_.best
                                                              : record.score.score < *position_.best));
  position_ = Position{.epoch = position_.epoch + 1, .step = position_.step,
                       .best = improved ? std::optional<double>(record.score.score) : position_.best,
                       .best_is_higher = higher};
  if (writes()) {
    save_last(job);
    if (improved) save_best(job, record);
    write_metrics(record);
  }
  record.best = improved;
  result.epochs.push_back(record);
  say(fmt::format("epoch {}: train loss {:.4f}, {}{}, lr {:.6g}, {}{}\n", record.epoch, record.train_loss,
                  record.score.summary, improved ? " (best)" : scored ? "" : " (not a number: not compared)",
                  record.lr, format_duration(record.seconds),
                  record.score.note.empty() ? "" : "; " + record.score.note));
  job.after_epoch(record);
}

void Harness::check_parameters(TrainingJob& job) const {
  if (!all_finite(job.module().parameters()))
    fail("{}: training stopped at epoch {}, step {}: the parameters are not finite (inf or nan) and were not saved; {}",
         options_.program, position_.epoch + 1, position_.step, last_good());
}

void Harness::save_last(TrainingJob& job) {
  check_parameters(job);
  nn::Metadata metadata = job.checkpoint_metadata(position_);
  if (settings_ != nullptr) settings_->write_to(metadata);
  save(job.module(), job.optimizer(), last_path(), metadata, job.schedule());
  saved_step_ = position_.step;
}

void Harness::save_best(TrainingJob& job, const EpochRecord& record) {
  nn::Metadata metadata = job.model_metadata();  // written after last: a job's own format holds the position
  metadata["epoch"] = std::to_string(record.epoch);
  for (const auto& [name, value] : record.score.values) metadata[name] = fmt::format("{}", value);
  nn::save(job.module(), best_path(), metadata);  // its parameters were checked by save_last just before
}

void Harness::write_metrics(const EpochRecord& record) {
  const std::string path = options_.dir + "/metrics.csv";
  std::vector<std::string> rows = kept_metrics(path, record.epoch - 1);
  if (rows.empty()) {
    std::string header = "epoch,step,train_loss";
    for (const auto& [name, value] : record.score.values) header += "," + name;
    rows.push_back(header + ",lr,seconds");
  }
  std::string row = fmt::format("{},{},{:.6f}", record.epoch, record.step, record.train_loss);
  for (const auto& [name, value] : record.score.values) row += fmt::format(",{:.6f}", value);
  rows.push_back(row + fmt::format(",{},{:.2f}", record.lr, record.seconds));
  std::string text;
  for (const std::string& r : rows) text += r + "\n";
  write_text_file(path, text);
}

}  // namespace tg::train
