#include "apps/translate/train.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include "core/services/error.h"
#include "core/services/generator.h"
#include "core/dispatch/matmul_precision.h"
#include "core/tensor/creation.h"
#include "ops/reshape.h"
#include "ops/stack.h"
#include "apps/translate/rank_shares.h"
#include "distributed/data_parallel.h"
#include "distributed/distributed.h"
#include "data/text/batching.h"
#include "data/text/bleu.h"
#include "data/text/corpus.h"
#include "data/text/multi30k_dir.h"
#include "data/text/tokenizer.h"
#include "apps/translate/evaluate.h"
#include "apps/translate/int8_checkpoint.h"
#include "apps/translate/serve/language_id.h"
#include "io/text_file.h"
#include "optim/adam.h"
#include "optim/clip_grad.h"
#include "optim/lr_schedule.h"
#include "train/grad_scaler.h"
#include "train/harness.h"
#include "apps/translate/step_profile.h"

namespace tg::translate {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::vector<std::string>> split_all(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> out;
  out.reserve(lines.size());
  for (const std::string& line : lines) out.push_back(text::split_tokens(line));
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

// No stop flag given (a library caller): the run goes to its end.
const std::atomic<bool>& never_stop() {
  static const std::atomic<bool> flag{false};
  return flag;
}

}  // namespace

uint64_t step_seed(uint64_t seed, int64_t step) {
  Generator mixer(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(step + 1)));
  return mixer.next_u64();
}

std::vector<plot::EpochMetrics> read_metrics_csv(const std::string& path) {
  // The harness's file (train/harness.cpp): a header of names, then a row an epoch. Columns are found by
  // name, so another order, or values the validation adds, change nothing here.
  const std::vector<std::string> lines = text::read_lines(path);
  if (lines.empty()) fail("'{}': empty; expected a header line of column names", path);
  const auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    return cells;
  };
  const std::vector<std::string> header = split(lines[0]);
  const auto column = [&](const char* name) {
    const auto at = std::find(header.begin(), header.end(), name);
    if (at == header.end()) fail("'{}': no column \"{}\" in its header '{}'", path, name, lines[0]);
    return static_cast<size_t>(at - header.begin());
  };
  const size_t epoch = column("epoch"), step = column("step"), train_loss = column("train_loss"),
               val_loss = column("val_loss"), val_ppl = column("val_ppl"), val_bleu = column("val_bleu"),
               lr = column("lr"), seconds = column("seconds");
  std::vector<plot::EpochMetrics> metrics;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = split(lines[i]);
    if (cells.size() != header.size())
      fail("'{}' line {}: expected {} columns (as the header), got {}", path, i + 1, header.size(), cells.size());
    const auto value = [&](size_t c) {
      try {
        return std::stod(cells[c]);
      } catch (const std::exception&) {
        fail("'{}' line {}: {} '{}' is not a number", path, i + 1, header[c], cells[c]);
      }
    };
    metrics.push_back({.epoch = static_cast<int64_t>(value(epoch)),
                       .step = static_cast<int64_t>(value(step)),
                       .train_loss = value(train_loss),
                       .val_loss = value(val_loss),
                       .val_ppl = value(val_ppl),
                       .val_bleu = value(val_bleu),
                       .lr = value(lr),
                       .seconds = value(seconds)});
  }
  return metrics;
}

namespace {

// Where a run keeps its files: runs/cho, runs/bahdanau; runs/cho-lstm,
// runs/bahdanau-lstm with the LSTM cell; or --checkpoint-dir.
struct RunFiles {
  std::string dir, last, best, metrics_csv, curve_svg;

  explicit RunFiles(const TrainOptions& options) {
    const std::string default_dir = "runs/" + options.model.kind + (options.model.cell == "lstm" ? "-lstm" : "");
    dir = options.checkpoint_dir.empty() ? default_dir : options.checkpoint_dir;
    last = dir + "/last.safetensors";
    best = dir + "/best.safetensors";
    metrics_csv = dir + "/metrics.csv";
    curve_svg = dir + "/curve.svg";
  }
};

// What the run is: fresh from the options, or the checkpoint's (vocabularies
// are filled in by load_training_data for a fresh run).
CheckpointInfo start_or_resume(const TrainOptions& options, const RunFiles& files) {
  CheckpointInfo info;
  if (!options.resume) {
    info.config = options.model;
    info.settings = options.settings;
    return info;
  }
  std::error_code ec;
  if (!std::filesystem::exists(files.last, ec))
    fail("cannot resume: '{}' does not exist (train without --resume first, or pass the --checkpoint-dir of the run)",
         files.last);
  info = read_checkpoint_info(files.last);
  refuse_int8_checkpoint(info, files.last, "resume training from");
  info.config.recompute_encoder = options.model.recompute_encoder;  // how to train, not what is trained
  return info;
}

struct TrainingData {
  std::string dir;
  std::vector<text::Example> train;
  std::vector<text::Example> val;
  std::vector<std::vector<int64_t>> val_sources;
  std::vector<std::string> val_references;  // tokenized target lines, for BLEU
};

// The subword models of a fresh run, trained on the raw training sentences
// after the data set's punctuation normalisation.
text::TextCodec train_subword_codec(const SplitText& train_text, const TrainOptions& options, const TrainHooks& hooks) {
  std::vector<std::string> de, en;
  for (const std::string& line : train_text.src_raw) de.push_back(text::normalize_punctuation(line, "de"));
  for (const std::string& line : train_text.tgt_raw) en.push_back(text::normalize_punctuation(line, "en"));
  const auto start = Clock::now();
  if (options.joint_subword) {
    std::vector<std::string> both = de;
    both.insert(both.end(), en.begin(), en.end());
    const text::SubwordModel joint = text::SubwordModel::train(both, options.subword);
    say(hooks, "subword: one joint {} model of {} pieces ({:.1f} s)\n", options.subword.model_type, joint.size(),
        seconds_since(start));
    return text::TextCodec::subwords(joint, joint);
  }
  text::TextCodec codec = text::TextCodec::subwords(text::SubwordModel::train(de, options.subword),
                                        text::SubwordModel::train(en, options.subword));
  say(hooks, "subword: {} models of {} (de) and {} (en) pieces ({:.1f} s)\n", options.subword.model_type,
      codec.source_model().size(), codec.target_model().size(), seconds_since(start));
  return codec;
}

// A vocabulary whose ids are a subword model's, piece for piece.
text::Vocab subword_vocab(const text::SubwordModel& model) {
  std::string lines;
  for (const std::string& piece : model.pieces()) lines += piece + "\n";
  return text::Vocab::from_string(lines, "the subword model's pieces");
}

// Reads and encodes the training and validation pairs; builds the
// vocabularies (words, or subword models) from the training text when the run is fresh.
TrainingData load_training_data(const TrainOptions& options, CheckpointInfo& info, const TrainHooks& hooks) {
  TrainingData data;
  data.dir = text::find_multi30k_dir(options.data_dir);
  const TrainSettings& settings = info.settings;
  if (!options.resume && options.vocab != "word" && options.vocab != "subword")
    fail("train: --vocab must be word or subword, got '{}'", options.vocab);
  const bool subword = options.resume ? info.codec.is_subword() : options.vocab == "subword";
  const SplitText train_text = read_split(data.dir, "train", settings.limit_train, subword);
  if (!options.resume) {
    if (subword) {
      info.codec = train_subword_codec(train_text, options, hooks);
      info.src_vocab = subword_vocab(info.codec.source_model());
      info.tgt_vocab = subword_vocab(info.codec.target_model());
    } else {
      info.src_vocab = text::Vocab::build(split_all(train_text.src_tok), settings.min_freq);
      info.tgt_vocab = text::Vocab::build(split_all(train_text.tgt_tok), settings.min_freq);
    }
    info.config.src_vocab = info.src_vocab.size();
    info.config.tgt_vocab = info.tgt_vocab.size();
  }
  data.train = text::encode_pairs(source_token_lists(info.codec, train_text), target_token_lists(info.codec, train_text),
                                  info.src_vocab, info.tgt_vocab);
  const int64_t dropped = text::drop_long_examples(data.train, settings.max_len);
  if (data.train.empty())
    fail("train: no training pairs left in '{}' after dropping those over --max-len {}", data.dir, settings.max_len);
  const SplitText val_text = read_split(data.dir, "val", options.limit_val, subword);
  data.val = text::encode_pairs(source_token_lists(info.codec, val_text), target_token_lists(info.codec, val_text),
                                info.src_vocab, info.tgt_vocab);
  for (const text::Example& e : data.val) data.val_sources.push_back(e.src);
  data.val_references = val_text.tgt_tok;
  say(hooks, "data: {} ({} training pairs, {} dropped for having more than {} tokens; {} validation pairs)\n",
      data.dir, data.train.size(), dropped, settings.max_len, data.val.size());
  if (subword)
    say(hooks, "vocabularies: subword, de {} pieces, en {} pieces\n", info.src_vocab.size(), info.tgt_vocab.size());
  else
    say(hooks, "vocabularies: de {} tokens, en {} tokens (min-freq {})\n", info.src_vocab.size(),
        info.tgt_vocab.size(), settings.min_freq);
  return data;
}

// One training run as the harness drives it (train/harness.h): the model, its
// optimizer and schedule, each part of a step a method named for what it does.
// Under mpirun each rank trains on its share of every batch (rank_shares.h);
// rank 0 alone validates and writes files. Every checkpoint holds translate's
// metadata (translation_checkpoint.h), which eval, average and ensembles read,
// the run's position in the harness's keys among it.
class TranslateJob : public train::TrainingJob {
 public:
  TranslateJob(const TrainOptions& options, const TrainHooks& hooks, distributed::DataParallel& ranks,
               const RunFiles& files)
      : options_(options),
        hooks_(hooks),
        ranks_(ranks),
        files_(files),
        info_(start_or_resume(options, files_)),
        data_(load_training_data(options, info_, hooks)),
        model_(on_device(make_model(info_.config, settings().seed), options.device)),  // made on the cpu: same weights anywhere
        adam_(model_->named_parameters(), adam_options(options)),
        schedule_(make_schedule()),
        params_(model_->parameters()),
        profile_(options.profile, options.profile_warmup),
        products_(training_precision(parse_matmul_precision(settings().precision, "train: --precision"),
                                     options.device)),
        scaler_({.enabled = products_.precision == MatmulPrecision::fp16}) {
    if (!products_.note.empty()) say(hooks_, "{}\n", products_.note);
    ranks_.start(training_fingerprint(info_, *model_, options.epochs, options.lr, options.max_steps,
                                      static_cast<int64_t>(data_.train.size())),
                 params_, "translate train");
    if (ranks_.active())
      say(hooks_, "data parallel: {} ranks, each about 1/{} of every batch\n", ranks_.world_size(), ranks_.world_size());
    say(hooks_,
        "model: {} ({}, dropout {}{}), {} parameters on {}; batch size {}, lr {}, seed {}\n", info_.config.kind,
        info_.config.kind == "transformer"
            ? fmt::format("{} layers, {} heads, d_model {}, feed-forward {}, {}", info_.config.layers,
                          info_.config.heads, info_.config.embed, info_.config.hidden,
                          info_.config.norm_first ? "pre-norm" : "post-norm")
            : fmt::format("cell {}, embed {}, hidden {}", info_.config.cell, info_.config.embed, info_.config.hidden),
        info_.config.dropout,
        info_.config.tie_embeddings ? ", tied embeddings" : "", model_->parameter_count(), options.device.str(),
        settings().batch_size, adam_.lr(), settings().seed);
  }

  nn::Module& module() override { return *model_; }
  optim::Optimizer& optimizer() override { return adam_; }
  optim::LRSchedule* schedule() override { return schedule_.get(); }
  MatmulPrecision precision() const { return products_.precision; }
  const std::string& data_dir() const { return data_.dir; }

  // translate's metadata (translation_checkpoint.h): the model, vocabularies, settings and the position.
  nn::Metadata model_metadata() const override { return translate::checkpoint_metadata(info_); }
  nn::Metadata checkpoint_metadata(const train::Position& position) const override {
    info_.position = position;  // best.safetensors and --keep-epochs' copies, written next, carry it too
    info_.loss_scale = {.scale = scaler_.enabled() ? scaler_.scale_value() : 0.0, .good_steps = scaler_.good_steps()};
    return translate::checkpoint_metadata(info_);
  }
  // The harness's run.* keys, or the train.* keys of a run saved before translate used them.
  train::Position read_position(const nn::Metadata& metadata, const std::string& path) const override {
    return read_run_position(metadata, path);
  }
  void on_resume(const train::Position& p, const nn::Metadata&) override {
    const LossScale& loss_scale = info_.loss_scale;  // read from the same file by start_or_resume
    if (scaler_.enabled() && loss_scale.scale > 0)
      scaler_.load_state({{"scale", loss_scale.scale}, {"good_steps", double(loss_scale.good_steps)}});
    step_ = p.step;
  }

  int64_t plan_epoch(int64_t epoch) override {
    plan_ = text::plan_epoch(data_.train, batch_options(), static_cast<uint64_t>(epoch));
    return static_cast<int64_t>(plan_.size());
  }

  // Forward and backward of one batch (this rank's share of it), the gradients
  // summed over the ranks, unscaled (fp16) and clipped; the loss and the norm
  // read back together, the stop flag agreed with them.
  train::StepResult forward_backward(int64_t, int64_t b) override {
    profile_.begin_step();
    // One rank: the whole batch. Several: this rank's share (maybe none), counted against the whole batch's tokens.
    const BatchShare share = batch_share(data_.train, plan_[static_cast<size_t>(b)], ranks_.rank(), ranks_.world_size());
    const text::Batch batch =
        share.indices.empty() ? text::Batch{} : text::make_batch(data_.train, share.indices).to(options_.device);
    model_->train();
    model_->reseed(rank_seed(step_seed(settings().seed, step_), ranks_.rank()));  // masks depend on (seed, step, rank)
    const Tensor loss = batch.size() == 0  ? Tensor()
                        : ranks_.active() ? share_loss(*model_, batch, share.global_tokens, settings().label_smoothing)
                                          : model_->loss(batch, {.label_smoothing = settings().label_smoothing});
    if (loss.defined()) scaler_.scale(loss).backward();  // fp16: loss · S, so small gradients survive 16 bits
    ranks_.reduce_gradients(params_);                    // every rank: the sum of all ranks' gradients
    if (hooks_.after_backward) hooks_.after_backward(step_ + 1, params_);
    scaler_.unscale(adam_);  // ÷ S (fp16), noting an inf or NaN gradient
    const Tensor norm = clip_gradients();
    const std::vector<double> read = read_together({loss, norm});  // the step's one read, before the update
    const distributed::DataParallel::Agreed agreed = ranks_.agree(read[0], stop_requested());
    step_stop_ = agreed.stop;
    last_loss_ = agreed.loss;
    std::optional<double> checked_norm;
    if (norm.defined() && !scaler_.enabled()) checked_norm = read[1];  // fp16: the scaler skips an overflow
    return {.loss = agreed.loss, .weight = static_cast<double>(share.global_tokens), .grad_norm = checked_norm};
  }

  void update() override {
    if (!scaler_.step(adam_, clip_factor_)) ++skipped_steps_;
    scaler_.update();
    adam_.zero_grad();
    schedule_after_step();
    profile_.end_step();
    ++step_;
    if (hooks_.on_step) hooks_.on_step(step_, last_loss_);
  }

  // One process: the flag as it is now. Several: after a step, the flag agreed
  // with its loss (one all-reduce); after an epoch, agreed anew.
  bool agree_stop(bool stop) override {
    if (!ranks_.active()) return stop;
    if (step_stop_) {
      const bool agreed = *step_stop_;
      step_stop_.reset();
      return agreed;
    }
    return ranks_.any(stop);
  }

  // Validation loss, perplexity and BLEU (rank 0; the others wait for its
  // BLEU, which the schedule and the best checkpoint follow on every rank).
  train::EpochScore validate(int64_t) override {
    double val_loss = 0, val_ppl = 0, bleu = 0;
    if (ranks_.is_root()) {
      val_loss = corpus_loss(*model_, data_.val, settings().batch_size);
      val_ppl = std::exp(val_loss);
      std::vector<std::string> hyps;
      for (const std::vector<std::string>& tokens :
           translate_ids(*model_, data_.val_sources, info_.tgt_vocab, options_.eval_beam, 1.0, settings().batch_size))
        hyps.push_back(info_.codec.target_tokenized(tokens));  // lc.norm.tok style, as the references
      bleu = text::multi_bleu(hyps, data_.val_references).score;
    }
    bleu = ranks_.root_value(bleu);
    schedule_after_epoch(bleu);
    return {.score = bleu,
            .higher_is_better = true,
            .values = {{"val_loss", val_loss}, {"val_ppl", val_ppl}, {"val_bleu", bleu}},
            .summary = fmt::format("val loss {:.4f}, val ppl {:.2f}, val BLEU {:.2f}", val_loss, val_ppl, bleu),
            .note = scaler_.enabled()
                        ? fmt::format("loss scale {}, {} steps skipped so far", scaler_.scale_value(), skipped_steps_)
                        : ""};
  }

  // --keep-epochs' copy, the curve of every epoch so far, and the language identifier with the first checkpoint.
  void after_epoch(const train::EpochRecord& record) override {
    if (!ranks_.is_root()) return;
    save_language_identifier();
    if (options_.keep_epochs)
      save_model_checkpoint(files_.dir + fmt::format("/epoch-{}.safetensors", record.epoch), *model_, info_);
    write_text_file(files_.curve_svg, plot::curve_svg(read_metrics_csv(files_.metrics_csv)));
  }

  TrainResult finish(const train::HarnessResult& run) {
    if (ranks_.is_root()) save_language_identifier();  // a run stopped before its first epoch's end saved last
    TrainResult result;
    result.losses = run.losses;
    result.steps = run.position.step;
    result.stopped = run.stopped;
    result.checkpoint_dir = files_.dir;
    std::error_code ec;
    if (ranks_.is_root() && std::filesystem::exists(files_.metrics_csv, ec))
      for (const plot::EpochMetrics& m : read_metrics_csv(files_.metrics_csv))
        if (m.epoch <= run.position.epoch) result.metrics.push_back(m);
    write_raw(hooks_, profile_.report());
    if (profile_.enabled() && ranks_.reduce_calls() > 0)  // every step of this run, warm-up included
      say(hooks_, "all-reduce of the gradients on rank 0 (waiting for slower ranks included): {:.2f} ms per step over "
                  "{} steps, {} buckets of at most {} MiB\n",
          1e3 * ranks_.reduce_seconds() / static_cast<double>(ranks_.reduce_calls()), ranks_.reduce_calls(),
          ranks_.buckets_per_call(), distributed::kDefaultBucketBytes >> 20);
    result.profile = profile_.rows();
    result.profiled_steps = profile_.profiled_steps();
    if (!run.stopped && !run.epochs.empty() && run.position.best)
      say(hooks_, "done: {} steps; best validation BLEU {:.2f} in {}; curve in {}\n", run.position.step,
          *run.position.best, files_.best, files_.curve_svg);
    return result;
  }

 private:
  static std::unique_ptr<Seq2Seq> on_device(std::unique_ptr<Seq2Seq> model, Device device) {
    model->to(device);
    return model;
  }

  static optim::AdamOptions adam_options(const TrainOptions& options) {
    optim::AdamOptions adam;
    adam.lr = options.lr;
    return adam;
  }

  // The lr schedule of settings().lr_schedule. A new cosine run fixes its
  // length here (--epochs × batches per epoch, less the warm-up) and keeps it
  // on resume, so raising --epochs later does not bend the curve already run.
  std::unique_ptr<optim::LRSchedule> make_schedule() {
    TrainSettings& s = info_.settings;
    const std::string& name = s.lr_schedule;
    if (name == "none") return nullptr;
    if (name == "plateau") return std::make_unique<optim::ReduceLROnPlateau>(adam_, plateau_options());
    if (name == "inverse-sqrt") {
      if (s.warmup_steps < 1) fail("train: --lr-schedule inverse-sqrt needs --warmup-steps >= 1, got {}", s.warmup_steps);
      return std::make_unique<optim::WarmupInverseSqrt>(adam_, s.warmup_steps);
    }
    if (name == "cosine") {
      if (s.schedule_steps == 0) {
        const int64_t batches = static_cast<int64_t>(text::plan_epoch(data_.train, batch_options(), 0).size());
        s.schedule_steps = options_.epochs * batches;
      }
      if (s.schedule_steps <= s.warmup_steps)
        fail("train: --warmup-steps {} leaves no steps for the cosine ({} steps in {} epochs)", s.warmup_steps,
             s.schedule_steps, options_.epochs);
      return std::make_unique<optim::CosineAnnealingLR>(adam_, s.schedule_steps - s.warmup_steps, s.min_lr,
                                                        s.warmup_steps);
    }
    fail("train: unknown lr schedule '{}' (expected none, plateau, cosine or inverse-sqrt)", name);
  }

  // Per-step schedules move after every update; plateau after each validation.
  void schedule_after_step() {
    if (auto* cosine = dynamic_cast<optim::CosineAnnealingLR*>(schedule_.get())) cosine->step();
    if (auto* inverse_sqrt = dynamic_cast<optim::WarmupInverseSqrt*>(schedule_.get())) inverse_sqrt->step();
  }

  void schedule_after_epoch(double val_bleu) {
    if (auto* plateau = dynamic_cast<optim::ReduceLROnPlateau*>(schedule_.get())) plateau->step(val_bleu);
  }

  const TrainSettings& settings() const { return info_.settings; }

  text::BatchOptions batch_options() const {
    text::BatchOptions batching;
    batching.batch_size = settings().batch_size;
    batching.seed = settings().seed;
    return batching;
  }

  bool stop_requested() const { return hooks_.stop != nullptr && hooks_.stop->load(); }

  // language_id.json, for translate serve's /detect, learned from the training sides the model was trained on
  // (their first --limit-train lines). Written once; a resumed run keeps the one it has. The run's files go on
  // without it when the raw text is missing (a word-vocabulary run reads only the tokenized files).
  void save_language_identifier() {
    if (language_identifier_saved_) return;
    language_identifier_saved_ = true;
    const std::string path = language_identifier_path(files_.last);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return;
    try {
      const auto start = Clock::now();
      learn_language_identifier(data_.dir, settings().limit_train).save(path);
      say(hooks_, "language identifier for translate serve: {} ({:.1f} s)\n", path, seconds_since(start));
    } catch (const Error& e) {
      say(hooks_, "no language identifier saved ({}); `translate langid` can make one later\n", e.what());
    }
  }

  // Clips to --clip (none: undefined) and returns the norm before clipping. On
  // a GPU it is computed and applied there, read later with the loss (each
  // read waits for the device); on the cpu, where a read costs nothing, the
  // factor is read and Adam multiplies each gradient by it as it reads it
  // (clip_factor_: the same bits, one pass over the gradients fewer).
  Tensor clip_gradients() {
    clip_factor_ = 1;
    if (settings().clip <= 0) return Tensor();
    if (options_.device.is_host()) {
      const optim::ClipFactor clip = optim::clip_grad_factor(params_, settings().clip);
      clip_factor_ = clip.factor;
      return scalar(clip.norm, {DType::f64});
    }
    return optim::clip_grad_norm_async(params_, settings().clip);
  }

  // One-element tensors on the model's device (undefined: 0) read back in one copy.
  std::vector<double> read_together(const std::vector<Tensor>& scalars) const {
    NoGrad no_grad;
    std::vector<Tensor> values;
    for (const Tensor& s : scalars)
      values.push_back(s.defined() ? reshape(s.detach(), Shape{}).to(DType::f64)
                                   : scalar(0.0, {DType::f64, options_.device}));
    return stack(values).to_vector<double>();
  }

  const TrainOptions& options_;
  const TrainHooks& hooks_;
  distributed::DataParallel& ranks_;
  const RunFiles& files_;
  mutable CheckpointInfo info_;  // its position follows the harness's at each save
  TrainingData data_;
  std::unique_ptr<Seq2Seq> model_;
  optim::Adam adam_;
  std::unique_ptr<optim::LRSchedule> schedule_;
  std::vector<Tensor> params_;
  StepProfile profile_;
  std::vector<std::vector<int64_t>> plan_;  // the epoch's batches
  int64_t step_ = 0;                        // updates in all (the harness's position, followed)
  std::optional<bool> step_stop_;           // the stop flag agreed with the last step's loss, until read
  double last_loss_ = 0;
  bool language_identifier_saved_ = false;  // saved, found, or given up on in this run
  TrainingPrecision products_;  // what --precision asked for, as this device runs it
  train::GradScaler scaler_;  // fp16 only; otherwise scale/unscale do nothing and every step steps
  int64_t skipped_steps_ = 0;  // fp16: steps whose gradients overflowed, in this run
  double clip_factor_ = 1;     // the step's clipping factor, for Adam to fold in (host devices)
};

}  // namespace

TrainResult train(const TrainOptions& options, const TrainHooks& hooks) {
  if (options.epochs < 1) fail("train: --epochs must be at least 1, got {}", options.epochs);
  TrainHooks own_hooks = hooks;
  if (!distributed::is_root()) own_hooks.out = nullptr;  // under mpirun only rank 0 prints
  distributed::DataParallel ranks;  // this process's place among the MPI ranks (a world of one without mpirun)
  const RunFiles files(options);
  // The folder first (rank 0 claims it; the others only read it on --resume): a run in progress, a finished run or
  // a folder that cannot be written is refused before any data is read.
  train::HarnessOptions run{.program = "translate train",
                            .dir = files.dir,
                            .writer = ranks.is_root(),
                            .resume = options.resume,
                            .overwrite = options.overwrite,
                            .epochs = options.epochs,
                            .max_steps = options.max_steps,
                            .unit = "tok",
                            .terminal = hooks.terminal,
                            .out = own_hooks.out,
                            .stop = hooks.stop != nullptr ? hooks.stop : &never_stop(),
                            // --keep-epochs' files, the language identifier and eval's hypotheses belong to the run too
                            .run_files = {"last.safetensors", "best.safetensors", "metrics.csv", "curve.svg",
                                          "language_id.json", "epoch-*.safetensors", "*.hyps.en"}};
  train::Harness harness(run);
  TranslateJob job(options, own_hooks, ranks, files);
  harness.set_resume_command(fmt::format("translate train --resume --checkpoint-dir {} --data-dir {} --epochs {}",
                                         files.dir, job.data_dir(), options.epochs));
  const MatmulPrecisionGuard products(job.precision());  // training and validation
  return job.finish(harness.run(job));
}

}  // namespace tg::translate
