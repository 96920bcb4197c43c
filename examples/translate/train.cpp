#include "train.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/generator.h"
#include "core/tape.h"
#include "data/batching.h"
#include "data/bleu.h"
#include "data/corpus.h"
#include "data/tokenizer.h"
#include "evaluate.h"
#include "optim/adam.h"
#include "optim/clip_grad.h"
#include "optim/lr_schedule.h"
#include "progress.h"
#include "step_profile.h"

namespace tg::translate {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::vector<std::string>> split_all(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> out;
  out.reserve(lines.size());
  for (const std::string& line : lines) out.push_back(data::split_tokens(line));
  return out;
}

// Prints to hooks.out (when set) and flushes, so progress shows in logs at once.
template <typename... Args>
void say(const TrainHooks& hooks, fmt::format_string<Args...> format, Args&&... args) {
  if (hooks.out == nullptr) return;
  fmt::print(hooks.out, format, std::forward<Args>(args)...);
  std::fflush(hooks.out);
}

void write_raw(const TrainHooks& hooks, const std::string& text) {
  if (hooks.out == nullptr || text.empty()) return;
  std::fputs(text.c_str(), hooks.out);
  std::fflush(hooks.out);
}

// ReduceLROnPlateau on validation BLEU: halve the lr once two epochs in a row
// have not improved on the best BLEU (patience 1).
optim::PlateauOptions plateau_options() {
  optim::PlateauOptions o;
  o.mode = optim::PlateauOptions::Mode::max;
  o.factor = 0.5;
  o.patience = 1;
  return o;
}

// Whether every parameter is finite; read back once per checkpoint, not per step.
bool all_finite(const std::vector<Tensor>& params) {
  for (const Tensor& p : params)
    for (const double v : p.to_vector<double>())
      if (!std::isfinite(v)) return false;
  return true;
}

// Where a run can go back to after a non-finite value.
std::string last_good(const std::string& last_path, int64_t saved_step) {
  if (saved_step < 0) return "no checkpoint was written yet";
  return fmt::format("the last good checkpoint is '{}' (step {}); resume from it with --resume, or start again with a "
                     "smaller --lr or with --clip",
                     last_path, saved_step);
}

}  // namespace

uint64_t step_seed(uint64_t seed, int64_t step) {
  Generator mixer(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(step + 1)));
  return mixer.next_u64();
}

std::string metrics_csv(const std::vector<EpochMetrics>& metrics) {
  std::string s = "epoch,step,train_loss,val_loss,val_ppl,val_bleu,lr,seconds\n";
  for (const EpochMetrics& m : metrics)
    s += fmt::format("{},{},{:.6f},{:.6f},{:.4f},{:.4f},{},{:.2f}\n", m.epoch, m.step, m.train_loss, m.val_loss,
                     m.val_ppl, m.val_bleu, m.lr, m.seconds);
  return s;
}

std::vector<EpochMetrics> read_metrics_csv(const std::string& path) {
  std::vector<EpochMetrics> metrics;
  const std::vector<std::string> lines = data::read_lines(path);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<double> v;
    std::stringstream row(lines[i]);
    for (std::string cell; std::getline(row, cell, ',');) {
      try {
        v.push_back(std::stod(cell));
      } catch (const std::exception&) {
        fail("'{}' line {}: '{}' is not a number", path, i + 1, cell);
      }
    }
    if (v.size() != 8) fail("'{}' line {}: expected 8 columns, got {}", path, i + 1, v.size());
    metrics.push_back({static_cast<int64_t>(v[0]), static_cast<int64_t>(v[1]), v[2], v[3], v[4], v[5], v[6], v[7]});
  }
  return metrics;
}

TrainResult train(const TrainOptions& options, const TrainHooks& hooks) {
  TrainResult result;
  // runs/cho, runs/bahdanau; runs/cho-lstm, runs/bahdanau-lstm with the LSTM cell
  const std::string default_dir = "runs/" + options.model.kind + (options.model.cell == "lstm" ? "-lstm" : "");
  const std::string dir = options.checkpoint_dir.empty() ? default_dir : options.checkpoint_dir;
  result.checkpoint_dir = dir;
  const std::string last_path = dir + "/last.safetensors", best_path = dir + "/best.safetensors";
  const std::string csv_path = dir + "/metrics.csv", svg_path = dir + "/curve.svg";
  const std::string data_dir = resolve_data_dir(options.data_dir);
  if (options.epochs < 1) fail("train: --epochs must be at least 1, got {}", options.epochs);

  // ---- what the run is: fresh from the options, or the checkpoint's ----
  CheckpointInfo info;
  if (options.resume) {
    std::error_code ec;
    if (!std::filesystem::exists(last_path, ec))
      fail("cannot resume: '{}' does not exist (train without --resume first, or pass the --checkpoint-dir "
           "of the run)",
           last_path);
    info = read_checkpoint_info(last_path);
  } else {
    info.config = options.model;
    info.settings = options.settings;
  }
  const TrainSettings& settings = info.settings;
  TrainPosition& pos = info.position;

  // ---- data ----
  const SplitText train_text = read_split(data_dir, "train", settings.limit_train, false);
  const std::vector<std::vector<std::string>> train_src = split_all(train_text.src_tok);
  const std::vector<std::vector<std::string>> train_tgt = split_all(train_text.tgt_tok);
  if (!options.resume) {
    info.src_vocab = data::Vocab::build(train_src, settings.min_freq);
    info.tgt_vocab = data::Vocab::build(train_tgt, settings.min_freq);
    info.config.src_vocab = info.src_vocab.size();
    info.config.tgt_vocab = info.tgt_vocab.size();
  }
  std::vector<data::Example> examples = data::encode_pairs(train_src, train_tgt, info.src_vocab, info.tgt_vocab);
  const int64_t dropped = data::drop_long_examples(examples, settings.max_len);
  if (examples.empty()) fail("train: no training pairs left in '{}' after dropping those over --max-len {}", data_dir,
                             settings.max_len);
  const SplitText val_text = read_split(data_dir, "val", options.limit_val, false);
  const std::vector<data::Example> val_examples =
      data::encode_pairs(split_all(val_text.src_tok), split_all(val_text.tgt_tok), info.src_vocab, info.tgt_vocab);
  std::vector<std::vector<int64_t>> val_sources;
  for (const data::Example& e : val_examples) val_sources.push_back(e.src);
  say(hooks, "data: {} ({} training pairs, {} dropped for having more than {} tokens; {} validation pairs)\n",
      data_dir, examples.size(), dropped, settings.max_len, val_examples.size());
  say(hooks, "vocabularies: de {} tokens, en {} tokens (min-freq {})\n", info.src_vocab.size(),
      info.tgt_vocab.size(), settings.min_freq);

  // ---- model, optimizer, schedule; restored when resuming ----
  std::unique_ptr<Seq2Seq> model = make_model(info.config, settings.seed);  // on the cpu: same weights anywhere
  model->to(options.device);
  optim::AdamOptions adam_options;
  adam_options.lr = options.lr;
  optim::Adam adam(model->named_parameters(), adam_options);
  std::unique_ptr<optim::ReduceLROnPlateau> plateau;
  if (settings.lr_schedule == "plateau") plateau = std::make_unique<optim::ReduceLROnPlateau>(adam, plateau_options());
  else if (settings.lr_schedule != "none")
    fail("train: unknown lr schedule '{}' (expected none or plateau)", settings.lr_schedule);
  if (options.resume) {
    train::load(*model, adam, last_path, {}, plateau.get());
    std::error_code ec;
    if (std::filesystem::exists(csv_path, ec))
      for (const EpochMetrics& m : read_metrics_csv(csv_path))
        if (m.epoch <= pos.epoch) result.metrics.push_back(m);  // epochs finished before the checkpoint
    say(hooks, "resuming from {}: epoch {}, batch {} done, step {} (model, seed, batch size, max-len, min-freq, "
               "limit-train, clip, schedule and lr come from the checkpoint)\n",
        last_path, pos.epoch + 1, pos.batch, pos.step);
  } else {
    std::filesystem::create_directories(dir);
  }
  say(hooks,
      "model: {} (cell {}, embed {}, hidden {}, dropout {}), {} parameters on {}; batch size {}, lr {}, seed {}\n",
      info.config.kind, info.config.cell, info.config.embed, info.config.hidden, info.config.dropout,
      model->parameter_count(), options.device.str(), settings.batch_size, adam.lr(), settings.seed);

  const std::vector<Tensor> params = model->parameters();
  data::BatchOptions batch_options;
  batch_options.batch_size = settings.batch_size;
  batch_options.seed = settings.seed;

  auto stop_report = [&](int64_t batches_in_epoch) {
    say(hooks, "stopped at epoch {}, batch {}/{} (step {}); saved {}\n", pos.epoch + 1, pos.batch, batches_in_epoch,
        pos.step, last_path);
    say(hooks, "resume with: translate train --resume --checkpoint-dir {} --data-dir {} --epochs {}\n", dir,
        data_dir, options.epochs);
  };
  if (options.max_steps > 0 && pos.step >= options.max_steps) {
    say(hooks, "already at step {} (--max-steps {}): nothing to do\n", pos.step, options.max_steps);
    result.steps = pos.step;
    return result;
  }

  if (pos.epoch >= options.epochs)
    say(hooks, "nothing to train: epoch {} of --epochs {} is finished already (raise --epochs to go on)\n",
        pos.epoch, options.epochs);

  // The step of the last training checkpoint this run can go back to (-1: none yet).
  int64_t saved_step = options.resume ? pos.step : -1;
  auto check_before_save = [&]() {
    if (!all_finite(params))
      fail("training stopped at epoch {}, step {}: the parameters are not finite (inf or nan) and were not saved; {}",
           pos.epoch + 1, pos.step, last_good(last_path, saved_step));
  };

  StepProfile step_profile(options.profile, options.profile_warmup);
  auto finish_profile = [&]() {
    write_raw(hooks, step_profile.report());
    result.profile = step_profile.rows();
    result.profiled_steps = step_profile.profiled_steps();
  };

  Tape tape;
  TapeScope use_tape(tape);
  for (int64_t epoch = pos.epoch; epoch < options.epochs; ++epoch) {
    const std::vector<std::vector<int64_t>> plan = data::plan_epoch(examples, batch_options, static_cast<uint64_t>(epoch));
    const int64_t total = static_cast<int64_t>(plan.size());
    ProgressLine bar(epoch + 1, total, hooks.terminal);
    const Clock::time_point start = Clock::now();
    const double seconds_before = pos.epoch_seconds;
    int64_t session_batches = 0, session_tokens = 0;

    for (int64_t b = pos.batch; b < total; ++b) {
      step_profile.begin_step();
      const data::Batch batch = data::make_batch(examples, plan[static_cast<size_t>(b)]).to(options.device);
      model->train();
      model->reseed(step_seed(settings.seed, pos.step));  // dropout masks depend on (seed, step) only
      const Tensor loss = batch_loss(*model, batch);
      // The loss and the gradient norm are read back every step anyway; checking them costs nothing more.
      auto stop_if_non_finite = [&](const char* what, double value) {
        if (std::isfinite(value)) return;
        write_raw(hooks, bar.finish());
        fail("training stopped at epoch {}, step {}: the {} is {}; this step's update was not applied and nothing "
             "was saved; {}",
             epoch + 1, pos.step + 1, what, std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf",
             last_good(last_path, saved_step));
      };
      const double loss_value = loss.item();
      stop_if_non_finite("loss", loss_value);
      loss.backward();
      tape.clear();
      if (hooks.after_backward) hooks.after_backward(pos.step + 1, params);
      if (settings.clip > 0) stop_if_non_finite("gradient norm", optim::clip_grad_norm(params, settings.clip));
      adam.step();
      adam.zero_grad();
      step_profile.end_step();

      ++pos.step;
      pos.batch = b + 1;
      pos.epoch_loss_sum += loss_value * static_cast<double>(batch.num_tgt_tokens);
      pos.epoch_tokens += batch.num_tgt_tokens;
      ++session_batches;
      session_tokens += batch.num_tgt_tokens;
      result.losses.push_back(loss_value);
      if (hooks.on_step) hooks.on_step(pos.step, loss_value);

      const double elapsed = seconds_since(start);
      const double eta = elapsed / static_cast<double>(session_batches) * static_cast<double>(total - b - 1);
      const double running_loss = pos.epoch_loss_sum / static_cast<double>(pos.epoch_tokens);
      const double tokens_per_s = static_cast<double>(session_tokens) / std::max(elapsed, 1e-9);
      const std::string progress = bar.update(b + 1, running_loss, tokens_per_s, eta);
      write_raw(hooks, progress);

      const bool stop_now = (hooks.stop != nullptr && hooks.stop->load()) ||
                            (options.max_steps > 0 && pos.step >= options.max_steps);
      if (stop_now) {
        if (!hooks.terminal && progress.empty())  // the plain log shows where the run stopped
          write_raw(hooks, bar.text(b + 1, running_loss, tokens_per_s, eta) + "\n");
        write_raw(hooks, bar.finish());
        pos.epoch_seconds = seconds_before + seconds_since(start);
        check_before_save();
        save_training_checkpoint(last_path, *model, adam, plateau.get(), info);
        stop_report(total);
        finish_profile();
        result.stopped = true;
        result.steps = pos.step;
        return result;
      }
    }
    write_raw(hooks, bar.finish());
    check_before_save();

    // ---- end of epoch: validation, checkpoints, metrics ----
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.step = pos.step;
    m.train_loss = pos.epoch_tokens == 0 ? 0.0 : pos.epoch_loss_sum / static_cast<double>(pos.epoch_tokens);
    m.val_loss = corpus_loss(*model, val_examples, settings.batch_size);
    m.val_ppl = std::exp(m.val_loss);
    std::vector<std::string> hyps;
    for (const std::vector<std::string>& tokens :
         translate_ids(*model, val_sources, info.tgt_vocab, options.eval_beam, 1.0, settings.batch_size))
      hyps.push_back(join_tokens(tokens));
    m.val_bleu = data::multi_bleu(hyps, val_text.tgt_tok).score;
    m.lr = adam.lr();
    m.seconds = seconds_before + seconds_since(start);
    result.metrics.push_back(m);
    if (plateau) plateau->step(m.val_bleu);

    const bool improved = m.val_bleu > pos.best_bleu;
    pos = TrainPosition{epoch + 1, 0, pos.step, improved ? m.val_bleu : pos.best_bleu, 0, 0, 0};
    if (improved) save_model_checkpoint(best_path, *model, info);
    save_training_checkpoint(last_path, *model, adam, plateau.get(), info);
    saved_step = pos.step;
    write_text_file(csv_path, metrics_csv(result.metrics));
    write_text_file(svg_path, curve_svg(result.metrics));
    say(hooks, "epoch {}: train loss {:.4f}, val loss {:.4f}, val ppl {:.2f}, val BLEU {:.2f}{}, lr {}, {}\n",
        m.epoch, m.train_loss, m.val_loss, m.val_ppl, m.val_bleu, improved ? " (best)" : "", m.lr,
        format_duration(m.seconds));
    if (hooks.stop != nullptr && hooks.stop->load()) {
      stop_report(total);
      finish_profile();
      result.stopped = true;
      result.steps = pos.step;
      return result;
    }
  }
  say(hooks, "done: {} steps; best validation BLEU {:.2f} in {}; curve in {}\n", pos.step, pos.best_bleu, best_path,
      svg_path);
  finish_profile();
  result.steps = pos.step;
  return result;
}

}  // namespace tg::translate
