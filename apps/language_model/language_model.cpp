#include "apps/language_model/language_model.h"

#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "distributed/agreement.h"
#include "distributed/data_parallel.h"
#include "distributed/distributed.h"
#include "train/train.h"

namespace tg::language_model {

namespace {

constexpr const char* kTrainFile = "train.lc.norm.tok.en.gz";
constexpr const char* kValFile = "val.lc.norm.tok.en.gz";

// The tokenized non-empty lines of a corpus file.
std::vector<std::vector<std::string>> read_sentences(const std::string& dir, const char* name, int64_t limit) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  if (!std::filesystem::exists(path))
    fail("language_model: cannot find '{}': expected Multi30k's {} in the data directory '{}' (--data-dir or "
         "$MULTI30K_DIR; scripts/get_multi30k.sh downloads it)",
         path, name, dir);
  std::vector<std::vector<std::string>> sentences;
  for (const std::string& line : text::read_lines(path)) {
    if (limit > 0 && static_cast<int64_t>(sentences.size()) >= limit) break;
    std::vector<std::string> tokens = text::split_tokens(line);
    if (!tokens.empty()) sentences.push_back(std::move(tokens));
  }
  if (sentences.empty()) fail("language_model: '{}' holds no sentences", path);
  return sentences;
}

// A sentence as a text::Example whose source and target are both the sentence:
// make_batch then gives tgt_in = <bos> w1..wn and tgt_out = w1..wn <eos>.
std::vector<text::Example> encode(const text::Vocab& vocab, const std::vector<std::vector<std::string>>& sentences) {
  std::vector<text::Example> examples;
  examples.reserve(sentences.size());
  for (const auto& s : sentences) {
    std::vector<int64_t> ids = vocab.encode(s);
    examples.push_back({ids, std::move(ids)});
  }
  return examples;
}

// Σ −log P(target) over the batch's real targets, the output layer at those (N) positions alone: logits (N, V).
Tensor batch_nll(const WordModel& model, const text::Batch& batch, Reduction reduction) {
  const Tensor rows = text::target_rows(batch);
  return cross_entropy(model.forward_at(batch.tgt_in, rows), index_select(reshape(batch.tgt_out, {-1}), 0, rows),
                       {.ignore_index = text::Vocab::pad_id, .reduction = reduction});
}

// Sets a module's mode for a scope and restores the previous one.
class ModeScope {
 public:
  ModeScope(nn::Module& m, bool training) : module_(m), previous_(m.is_training()) { m.train(training); }
  ~ModeScope() { module_.train(previous_); }
  ModeScope(const ModeScope&) = delete;
  ModeScope& operator=(const ModeScope&) = delete;

 private:
  nn::Module& module_;
  bool previous_;
};

double evaluate_perplexity(WordModel& model, const std::vector<text::Example>& examples, int64_t batch_size) {
  ModeScope eval(model, false);
  NoGrad no_grad;
  double nll = 0;
  int64_t tokens = 0;
  for (const std::vector<int64_t>& indices : text::plan_eval(examples, batch_size)) {
    const text::Batch batch = text::make_batch(examples, indices).to(model.device());
    nll += batch_nll(model, batch, Reduction::sum).item();
    tokens += batch.num_tgt_tokens;
  }
  return std::exp(nll / static_cast<double>(tokens));
}

void check_options(const LanguageModelOptions& o) {
  // A resumed run replaces its own --save file as it improves.
  if (!o.save_path.empty()) train::check_output_file(o.save_path, "language_model: --save", o.overwrite || o.resume);
  if (o.min_freq < 1) fail("language_model: min_freq must be >= 1, got {}", o.min_freq);
  if (o.epochs < 1) fail("language_model: epochs must be >= 1, got {}", o.epochs);
  if (o.batch_size < 1) fail("language_model: batch size must be >= 1, got {}", o.batch_size);
  if (!(o.lr > 0)) fail("language_model: lr must be > 0, got {}", o.lr);
  if (!(o.clip >= 0)) fail("language_model: clip must be >= 0, got {}", o.clip);
  if (o.limit_train < 0) fail("language_model: limit_train must be >= 0, got {}", o.limit_train);
}

std::string metadata_value(const std::map<std::string, std::string>& metadata, const std::string& key,
                           const std::string& path) {
  const auto it = metadata.find(key);
  if (it == metadata.end())
    fail("language_model: '{}' is not a language-model checkpoint: its metadata has no \"{}\"", path, key);
  return it->second;
}

// The next word's id from logits (1, V): the most likely one (temperature 0)
// or a draw from softmax(logits / temperature); never <pad>, <bos> or <unk>.
int64_t choose(const Tensor& logits, double temperature, Generator& gen) {
  const std::vector<float> l = logits.to_vector<float>();
  auto allowed = [](size_t id) {
    return id != text::Vocab::pad_id && id != text::Vocab::bos_id && id != text::Vocab::unk_id;
  };
  size_t best = text::Vocab::eos_id;
  for (size_t i = 0; i < l.size(); ++i)
    if (allowed(i) && l[i] > l[best]) best = i;
  if (temperature == 0) return static_cast<int64_t>(best);
  std::vector<double> weights(l.size(), 0.0);  // e^((l_i - l_best) / T)
  double total = 0;
  for (size_t i = 0; i < l.size(); ++i)
    if (allowed(i)) total += weights[i] = std::exp((l[i] - l[best]) / temperature);
  double u = gen.uniform() * total;
  for (size_t i = 0; i < l.size(); ++i) {
    if (u < weights[i]) return static_cast<int64_t>(i);
    u -= weights[i];
  }
  return static_cast<int64_t>(best);  // rounding left u just above the last weight
}

}  // namespace

namespace {

// The settings that make a run what it is, kept in last.safetensors and restored on --resume.
void bind_settings(LanguageModelOptions& o, train::RunSettings& settings, const std::function<bool(const std::string&)>& given) {
  for (auto [flag, value] : {std::pair{"--min-freq", &o.min_freq}, {"--batch-size", &o.batch_size},
                             {"--limit-train", &o.limit_train}, {"--embed", &o.model.embed}, {"--hidden", &o.model.hidden}})
    settings.bind(flag, *value, given(flag));
  settings.bind("--layers", o.model.layers, given("--layers"));
  for (auto [flag, value] : {std::pair{"--lr", &o.lr}, {"--clip", &o.clip}, {"--dropout", &o.model.dropout}})
    settings.bind(flag, *value, given(flag));
  settings.bind("--seed", o.seed, given("--seed"));
  settings.bind("--precision", o.precision, given("--precision"));
}

// One training run on the harness (train/harness.h): the data, the model and
// its optimizer, each step a method named for what it does. Under mpirun each
// rank trains on its share of every batch (distributed/data_parallel.h);
// rank 0 alone logs, validates and saves.
class LanguageModelJob : public train::TrainingJob {
 public:
  explicit LanguageModelJob(const LanguageModelOptions& o)
      : o_(o),
        dir_(text::find_multi30k_dir(o.data_dir)),
        products_(training_precision(parse_matmul_precision(o.precision, "language_model: precision"), o.device)),
        scaler_({.enabled = products_.precision == MatmulPrecision::fp16}) {
    read_data();
    build_model();
    log_setup();
    start_ranks();
    adam_ = std::make_unique<optim::Adam>(model().named_parameters(), optim::AdamOptions{.lr = o.lr});
    batching_.batch_size = o.batch_size;
    batching_.seed = o.seed;
  }

  nn::Module& module() override { return model(); }
  optim::Optimizer& optimizer() override { return *adam_; }
  nn::Metadata model_metadata() const override { return language_model_metadata(report_.trained); }
  bool is_root() const { return ranks_.is_root(); }
  MatmulPrecision precision() const { return products_.precision; }

  int64_t plan_epoch(int64_t epoch) override {
    plan_ = text::plan_epoch(train_, batching_, static_cast<uint64_t>(epoch));
    return static_cast<int64_t>(plan_.size());
  }

  // Forward, backward and clipping of one global batch; fp16 scales the loss and unscales the gradients.
  train::StepResult forward_backward(int64_t epoch, int64_t batch) override {
    const std::vector<int64_t>& indices = plan_[static_cast<size_t>(batch)];
    // Dropout masks from (seed, epoch, batch, rank): a resumed run draws the same ones.
    model().reseed(train::batch_seed(o_.seed, epoch, batch) + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(ranks_.rank()));
    StepLoss step = ranks_.active() ? share_forward_backward(indices) : forward_backward(indices);
    scaler_.unscale(*adam_);  // ÷ S (fp16), noting an inf or NaN gradient
    std::optional<double> norm;
    if (o_.clip > 0) norm = optim::clip_grad_norm(adam_->parameters(), o_.clip);
    if (scaler_.enabled()) norm.reset();  // fp16: an overflowing gradient is the scaler's to skip, not an error
    if (ranks_.active()) step.loss = ranks_.agree(step.loss).loss;  // Σ of the ranks' share losses
    report_.train_loss_per_step.push_back(step.loss);
    return {.loss = step.loss, .weight = static_cast<double>(step.tokens), .grad_norm = norm};
  }

  void update() override {
    if (!scaler_.step(*adam_)) ++report_.skipped_steps;
    scaler_.update();
    adam_->zero_grad();
  }

  // Rank 0 validates; the others wait for its figure, which decides the best epoch on every rank.
  train::EpochScore validate(int64_t epoch) override {
    const double ppl = ranks_.root_value(ranks_.is_root() ? evaluate_perplexity(model(), val_, 128) : 0.0);
    if (ppl < best_) keep_as_best(ppl, static_cast<int>(epoch + 1));
    return {.score = ppl,
            .values = {{"val_ppl", ppl}},
            .summary = fmt::format("val perplexity {:.2f}{}", ppl,
                                   scaler_.enabled() ? fmt::format(", loss scale {}, {} steps skipped",
                                                                   scaler_.scale_value(), report_.skipped_steps)
                                                     : "")};
  }

  bool agree_stop(bool stop) override { return ranks_.active() ? ranks_.any(stop) : stop; }

  // The report of a run the harness ended: the best epoch's weights, in eval mode.
  LanguageModelReport finish(const train::HarnessResult& result) {
    for (const train::EpochRecord& r : result.epochs)
      report_.epochs.push_back({.epoch = static_cast<int>(r.epoch),
                                .steps = r.steps,
                                .train_loss = r.train_loss,
                                .val_perplexity = r.score.score,
                                .seconds = r.train_seconds});
    report_.loss_scale = scaler_.enabled() ? scaler_.scale_value() : 0.0;
    const std::vector<Tensor> parameters = model().parameters();
    NoGrad no_grad;
    for (size_t i = 0; i < parameters.size() && !best_parameters_.empty(); ++i) parameters[i].copy_(best_parameters_[i]);
    report_.val_perplexity = best_parameters_.empty() ? 0.0 : best_;
    model().eval();
    return std::move(report_);
  }

 private:
  WordModel& model() { return *report_.trained.model; }
  bool logging() const { return o_.log && ranks_.is_root(); }  // several ranks: only rank 0 logs

  // Both splits' sentences, encoded with the vocabulary of the training ones, and their counts.
  void read_data() {
    const auto train_sentences = read_sentences(dir_, kTrainFile, o_.limit_train);
    const auto val_sentences = read_sentences(dir_, kValFile, 0);
    text::Vocab& vocab = report_.trained.vocab;
    vocab = text::Vocab::build(train_sentences, o_.min_freq);
    train_ = encode(vocab, train_sentences);
    val_ = encode(vocab, val_sentences);
    report_.train_sentences = static_cast<int64_t>(train_.size());
    report_.val_sentences = static_cast<int64_t>(val_.size());
    for (const auto& e : train_) report_.train_tokens += static_cast<int64_t>(e.tgt.size()) + 1;  // + <eos>
    for (const auto& e : val_) report_.val_tokens += static_cast<int64_t>(e.tgt.size()) + 1;
  }

  void build_model() {
    WordModelConfig config = o_.model;
    config.vocab = report_.trained.vocab.size();
    // Made on the cpu, so that the weights are the same on every device.
    report_.trained.model = std::make_unique<WordModel>(config, o_.seed);
    model().to(o_.device);
  }

  void log_setup() {
    if (!logging()) return;
    o_.log(fmt::format("data: {} training sentences ({} tokens), {} validation sentences ({} tokens), from {}",
                       report_.train_sentences, report_.train_tokens, report_.val_sentences, report_.val_tokens, dir_));
    o_.log(fmt::format("vocabulary: {} words (min freq {}, specials included)", report_.trained.vocab.size(),
                       o_.min_freq));
    o_.log(model().summary());
    if (!products_.note.empty()) o_.log(products_.note);
  }

  // Before training on several ranks: the same setup everywhere (else every
  // rank stops, naming the difference) and rank 0's weights.
  void start_ranks() {
    if (!ranks_.active()) return;
    distributed::Fingerprint f;  // one entry per setting, so that a difference names it
    f.add("embed", o_.model.embed);
    f.add("hidden", o_.model.hidden);
    f.add("layers", int64_t{o_.model.layers});
    f.add("dropout", o_.model.dropout);
    f.add("epochs", int64_t{o_.epochs});
    f.add("batch-size", o_.batch_size);
    f.add("lr", o_.lr);
    f.add("clip", o_.clip);
    f.add("precision", o_.precision);
    f.add("seed", std::to_string(o_.seed));
    f.add("max-steps", o_.max_steps);
    f.add("min-freq", o_.min_freq);
    f.add("training sentences", report_.train_sentences);
    f.add_hashed("vocabulary", report_.trained.vocab.tokens());
    f.add_shapes("parameters", model().named_parameters());
    ranks_.start(f, model().parameters(), "language_model", "the language model's setup");
  }

  struct StepLoss {
    double loss = 0;     // the whole batch's mean cross entropy
    int64_t tokens = 0;  // the whole batch's target tokens
  };

  // One process: the mean loss over the whole batch's target tokens.
  StepLoss forward_backward(const std::vector<int64_t>& indices) {
    const text::Batch batch = text::make_batch(train_, indices).to(o_.device);
    const Tensor loss = batch_nll(model(), batch, Reduction::mean);
    scaler_.scale(loss).backward();
    return {loss.item(), batch.num_tgt_tokens};
  }

  // Several ranks: this rank's share's Σ −log P over the global batch's
  // target count T, so that the sum of the ranks' gradients, which every rank
  // then holds, is the gradient of the whole batch's mean. The loss returned
  // is the share's (the ranks' sum is the batch's).
  StepLoss share_forward_backward(const std::vector<int64_t>& global_batch) {
    const int64_t global_tokens = text::target_tokens(train_, global_batch);
    const std::vector<int64_t> share = ranks_.share(global_batch);
    double value = 0;
    if (!share.empty()) {  // a batch smaller than the world leaves some ranks nothing
      const text::Batch batch = text::make_batch(train_, share).to(model().device());
      const Tensor loss = batch_nll(model(), batch, Reduction::sum) / static_cast<double>(global_tokens);
      scaler_.scale(loss).backward();
      value = loss.item();
    }
    ranks_.reduce_gradients(model().parameters());
    return {value, global_tokens};
  }

  // A copy of the weights, and the checkpoint when --save is given.
  void keep_as_best(double ppl, int epoch) {
    best_ = ppl;
    report_.best_epoch = epoch;
    best_parameters_.clear();
    for (const Tensor& p : model().parameters()) best_parameters_.push_back(p.clone());
    if (!o_.save_path.empty() && ranks_.is_root()) {
      if (!train::all_finite(best_parameters_))
        fail("language_model: the parameters are not finite (inf or nan); '{}' was not written", o_.save_path);
      save_language_model(report_.trained, o_.save_path, best_, epoch);
      if (o_.log) o_.log(fmt::format("saved {}", o_.save_path));
    }
  }

  const LanguageModelOptions& o_;
  distributed::DataParallel ranks_;  // this process's place among the MPI ranks (a world of one without mpirun)
  std::string dir_;
  LanguageModelReport report_;  // report_.trained holds the vocabulary and the model being trained
  std::vector<text::Example> train_, val_;
  std::unique_ptr<optim::Adam> adam_;  // made once the ranks agree on the model
  text::BatchOptions batching_;
  std::vector<std::vector<int64_t>> plan_;  // the epoch's batches
  std::vector<Tensor> best_parameters_;
  double best_ = std::numeric_limits<double>::infinity();
  TrainingPrecision products_;  // what the precision option asked for, as this device runs it
  train::GradScaler scaler_;  // fp16 only; otherwise scale/unscale do nothing and every step steps
};

}  // namespace

LanguageModelReport train_language_model(const LanguageModelOptions& options,
                                         const std::function<bool(const std::string&)>& given) {
  LanguageModelOptions o = options;
  check_options(o);
  const bool root = distributed::is_root();
  if (o.resume && distributed::world_size() > 1)
    fail("language_model: --resume under mpirun is not supported yet; resume on one process");
  train::install_stop_signals();
  // The folder first (rank 0's): a run in progress, a finished run or a folder that cannot be written is refused
  // before any data is read.
  train::Harness harness({.program = "language_model",
                          .dir = root ? o.checkpoint_dir : std::string(),
                          .resume = o.resume,
                          .overwrite = o.overwrite,
                          .epochs = o.epochs,
                          .max_steps = o.max_steps,
                          .max_steps_ends_epoch = o.checkpoint_dir.empty(),  // nothing to resume: evaluate what was trained
                          .resume_command = fmt::format("language_model --checkpoint-dir {} --epochs {} --resume",
                                                        o.checkpoint_dir, o.epochs),
                          .log_every = o.log_every,
                          .out = o.log && root ? stdout : nullptr});
  train::RunSettings settings;
  bind_settings(o, settings, given ? given : [](const std::string&) { return false; });
  harness.restore_settings(settings);
  LanguageModelJob job(o);
  const MatmulPrecisionGuard products(job.precision());  // training and validation
  return job.finish(harness.run(job));
}

double perplexity(const LanguageModel& lm, const std::vector<std::vector<std::string>>& sentences, int64_t batch_size) {
  if (sentences.empty()) fail("language_model: perplexity of no sentences");
  return evaluate_perplexity(*lm.model, encode(lm.vocab, sentences), batch_size);
}

nn::Metadata language_model_metadata(const LanguageModel& lm) {
  const WordModelConfig& c = lm.model->config();
  return {{"lm.vocab", lm.vocab.to_string()},
          {"lm.embed", std::to_string(c.embed)},
          {"lm.hidden", std::to_string(c.hidden)},
          {"lm.layers", std::to_string(c.layers)},
          {"lm.dropout", fmt::format("{}", c.dropout)}};
}

void save_language_model(const LanguageModel& lm, const std::string& path, double val_perplexity, int epoch) {
  nn::Metadata metadata = language_model_metadata(lm);
  metadata["lm.val_perplexity"] = fmt::format("{}", val_perplexity);
  metadata["lm.epoch"] = std::to_string(epoch);
  nn::save(*lm.model, path, metadata);
}

LanguageModel load_language_model(const std::string& path, Device device) {
  if (!std::filesystem::exists(path)) fail("language_model: checkpoint '{}' does not exist", path);
  const std::map<std::string, std::string> metadata = load_safetensors(path).metadata;
  LanguageModel lm;
  lm.vocab = text::Vocab::from_string(metadata_value(metadata, "lm.vocab", path), path + " (lm.vocab)");
  WordModelConfig config;
  config.vocab = lm.vocab.size();
  config.embed = train::metadata_integer(metadata, "lm.embed", path);
  config.hidden = train::metadata_integer(metadata, "lm.hidden", path);
  config.layers = static_cast<int>(train::metadata_integer(metadata, "lm.layers", path));
  config.dropout = 0;  // only used in training
  lm.model = std::make_unique<WordModel>(config, 0);
  lm.model->to(device);
  nn::load(*lm.model, path);
  lm.model->eval();
  return lm;
}

std::vector<std::string> generate(const LanguageModel& lm, const std::vector<std::string>& prompt,
                                  const GenerateOptions& options) {
  if (!(options.temperature >= 0)) fail("generate: temperature must be >= 0, got {}", options.temperature);
  if (options.max_words < 0) fail("generate: max_words must be >= 0, got {}", options.max_words);
  WordModel& model = *lm.model;
  ModeScope eval(model, false);
  NoGrad no_grad;
  Generator gen(options.seed);

  std::vector<int64_t> context = {text::Vocab::bos_id};  // <bos> prompt...
  for (const int64_t id : lm.vocab.encode(prompt)) context.push_back(id);
  const Device device = model.device();
  auto token = [&](int64_t id) { return from_vector(std::vector<int64_t>{id}, Shape{1}, {DType::i64, device}); };  // (1)
  Tensor logits, state;
  for (const int64_t id : context) std::tie(logits, state) = model.step(token(id), state);

  std::vector<std::string> words;
  while (static_cast<int64_t>(words.size()) < options.max_words) {
    const int64_t next = choose(logits, options.temperature, gen);
    if (next == text::Vocab::eos_id) break;
    words.push_back(lm.vocab.token(next));
    std::tie(logits, state) = model.step(token(next), state);
  }
  return words;
}

}  // namespace tg::language_model
