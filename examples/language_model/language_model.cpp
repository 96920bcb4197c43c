#include "language_model.h"

#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "dist/agreement.h"
#include "dist/data_parallel.h"

namespace tg::examples {

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
  for (const std::string& line : data::read_lines(path)) {
    if (limit > 0 && static_cast<int64_t>(sentences.size()) >= limit) break;
    std::vector<std::string> tokens = data::split_tokens(line);
    if (!tokens.empty()) sentences.push_back(std::move(tokens));
  }
  if (sentences.empty()) fail("language_model: '{}' holds no sentences", path);
  return sentences;
}

// A sentence as a data::Example whose source and target are both the sentence:
// make_batch then gives tgt_in = <bos> w1..wn and tgt_out = w1..wn <eos>.
std::vector<data::Example> encode(const data::Vocab& vocab, const std::vector<std::vector<std::string>>& sentences) {
  std::vector<data::Example> examples;
  examples.reserve(sentences.size());
  for (const auto& s : sentences) {
    std::vector<int64_t> ids = vocab.encode(s);
    examples.push_back({ids, std::move(ids)});
  }
  return examples;
}

// Σ −log P(target) over the batch's real targets: logits (T, B, V), targets (T, B).
Tensor batch_nll(const WordModel& model, const data::Batch& batch, Reduction reduction) {
  const Tensor logits = model.forward(batch.tgt_in);
  return cross_entropy(reshape(logits, {-1, logits.size(-1)}), reshape(batch.tgt_out, {-1}),
                       {.ignore_index = data::Vocab::pad_id, .reduction = reduction});
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

double evaluate_perplexity(WordModel& model, const std::vector<data::Example>& examples, int64_t batch_size) {
  ModeScope eval(model, false);
  NoGrad no_grad;
  double nll = 0;
  int64_t tokens = 0;
  for (const std::vector<int64_t>& indices : data::plan_eval(examples, batch_size)) {
    const data::Batch batch = data::make_batch(examples, indices).to(model.device());
    nll += batch_nll(model, batch, Reduction::sum).item();
    tokens += batch.num_tgt_tokens;
  }
  return std::exp(nll / static_cast<double>(tokens));
}

// Data-parallel training (several MPI ranks, dist/data_parallel.h): every
// rank plans the same global batches and takes its share. Its loss is the
// share's Σ −log P over the global batch's target count T, so the sum of the
// ranks' gradients, which every rank then holds, is the gradient of the whole
// batch's mean. Returns the share's loss (the ranks' sum is the batch's).
double share_forward_backward(WordModel& model, const std::vector<data::Example>& train,
                              const std::vector<int64_t>& global_batch, int64_t global_tokens,
                              dist::DataParallel& ranks) {
  const std::vector<int64_t> share = ranks.share(global_batch);
  double value = 0;
  if (!share.empty()) {  // a batch smaller than the world leaves some ranks nothing
    const data::Batch batch = data::make_batch(train, share).to(model.device());
    const Tensor loss = batch_nll(model, batch, Reduction::sum) / static_cast<double>(global_tokens);
    loss.backward();
    value = loss.item();
  }
  ranks.reduce_gradients(model.parameters());
  return value;
}

// Before training on several ranks: the same setup everywhere (else every
// rank stops, naming the difference), rank 0's weights, and dropout masks of
// each rank's own.
void start_ranks(const LanguageModelOptions& o, const data::Vocab& vocab, int64_t train_sentences, WordModel& model,
                 dist::DataParallel& ranks) {
  if (!ranks.active()) return;
  dist::Fingerprint f;  // one entry per setting, so that a difference names it
  f.add("embed", o.model.embed);
  f.add("hidden", o.model.hidden);
  f.add("layers", int64_t{o.model.layers});
  f.add("dropout", o.model.dropout);
  f.add("epochs", int64_t{o.epochs});
  f.add("batch-size", o.batch_size);
  f.add("lr", o.lr);
  f.add("clip", o.clip);
  f.add("seed", std::to_string(o.seed));
  f.add("max-steps", o.max_steps);
  f.add("min-freq", o.min_freq);
  f.add("training sentences", train_sentences);
  f.add_hashed("vocabulary", vocab.tokens());
  f.add_shapes("parameters", model.named_parameters());
  ranks.start(f, model.parameters(), "language_model", "the language model's setup");
  model.reseed(o.seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(ranks.rank()));
}

void check_options(const LanguageModelOptions& o) {
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

int64_t metadata_int(const std::map<std::string, std::string>& metadata, const std::string& key,
                     const std::string& path) {
  const std::string text = metadata_value(metadata, key, path);
  try {
    size_t used = 0;
    const int64_t value = std::stoll(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  fail("language_model: '{}': metadata \"{}\" should be an integer, got \"{}\"", path, key, text);
}

// The next word's id from logits (1, V): the most likely one (temperature 0)
// or a draw from softmax(logits / temperature); never <pad>, <bos> or <unk>.
int64_t choose(const Tensor& logits, double temperature, Generator& gen) {
  const std::vector<float> l = logits.to_vector<float>();
  auto allowed = [](size_t id) {
    return id != data::Vocab::pad_id && id != data::Vocab::bos_id && id != data::Vocab::unk_id;
  };
  size_t best = data::Vocab::eos_id;
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

LanguageModelReport train_language_model(const LanguageModelOptions& o) {
  check_options(o);
  const std::string dir = data::find_multi30k_dir(o.data_dir);
  const auto train_sentences = read_sentences(dir, kTrainFile, o.limit_train);
  const auto val_sentences = read_sentences(dir, kValFile, 0);

  LanguageModelReport report;
  LanguageModel& lm = report.trained;
  lm.vocab = data::Vocab::build(train_sentences, o.min_freq);
  const std::vector<data::Example> train = encode(lm.vocab, train_sentences);
  const std::vector<data::Example> val = encode(lm.vocab, val_sentences);
  report.train_sentences = static_cast<int64_t>(train.size());
  report.val_sentences = static_cast<int64_t>(val.size());
  for (const auto& e : train) report.train_tokens += static_cast<int64_t>(e.tgt.size()) + 1;  // + <eos>
  for (const auto& e : val) report.val_tokens += static_cast<int64_t>(e.tgt.size()) + 1;

  WordModelConfig config = o.model;
  config.vocab = lm.vocab.size();
  lm.model = std::make_unique<WordModel>(config, o.seed);  // on the cpu: the same weights on every device
  WordModel& model = *lm.model;
  model.to(o.device);
  dist::DataParallel ranks;  // this process's place among the MPI ranks (a world of one without mpirun)
  const bool root = ranks.is_root();  // several ranks: only rank 0 logs and saves
  const bool several = ranks.active();
  if (o.log && root) {
    o.log(fmt::format("data: {} training sentences ({} tokens), {} validation sentences ({} tokens), from {}",
                      report.train_sentences, report.train_tokens, report.val_sentences, report.val_tokens, dir));
    o.log(fmt::format("vocabulary: {} words (min freq {}, specials included)", lm.vocab.size(), o.min_freq));
    o.log(model.summary());
  }

  start_ranks(o, lm.vocab, report.train_sentences, model, ranks);
  optim::Adam adam(model.named_parameters(), {.lr = o.lr});
  data::BatchOptions batching;
  batching.batch_size = o.batch_size;
  batching.seed = o.seed;
  std::vector<Tensor> best_parameters;
  double best = std::numeric_limits<double>::infinity();
  int64_t step = 0;
  model.train();
  for (int epoch = 1; epoch <= o.epochs && !(o.max_steps > 0 && step >= o.max_steps); ++epoch) {
    const auto plan = data::plan_epoch(train, batching, static_cast<uint64_t>(epoch - 1));
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    EpochResult result{.epoch = epoch};
    double nll = 0;
    int64_t tokens = 0;
    for (const std::vector<int64_t>& indices : plan) {
      double value = 0;
      int64_t batch_tokens = 0;
      if (several) {
        batch_tokens = data::target_tokens(train, indices);
        value = share_forward_backward(model, train, indices, batch_tokens, ranks);
      } else {
        const data::Batch batch = data::make_batch(train, indices).to(o.device);
        const Tensor loss = batch_nll(model, batch, Reduction::mean);
        loss.backward();
        value = loss.item();
        batch_tokens = batch.num_tgt_tokens;
      }
      if (o.clip > 0) optim::clip_grad_norm(adam.parameters(), o.clip);
      adam.step();
      adam.zero_grad();
      if (several) value = ranks.agree(value).loss;  // the whole batch's
      report.train_loss_per_step.push_back(value);
      nll += value * static_cast<double>(batch_tokens);
      tokens += batch_tokens;
      ++result.steps;
      ++step;
      if (o.log && root && o.log_every > 0 && result.steps % o.log_every == 0)
        o.log(fmt::format("epoch {} step {:5d}/{}  loss {:.4f}  {:.0f} tokens/s", epoch, result.steps, plan.size(),
                          nll / static_cast<double>(tokens), static_cast<double>(tokens) / elapsed()));
      if (step == o.max_steps) break;
    }
    result.seconds = elapsed();
    result.train_loss = nll / static_cast<double>(tokens);
    // Rank 0 validates; the others wait for its figure, which decides the best epoch on every rank.
    result.val_perplexity = ranks.root_value(root ? evaluate_perplexity(model, val, 128) : 0.0);
    report.epochs.push_back(result);
    const bool improved = result.val_perplexity < best;
    if (o.log && root)
      o.log(fmt::format("epoch {}/{}  train loss {:.4f} (ppl {:.2f})  val perplexity {:.2f}  {:.1f} s{}", epoch,
                        o.epochs, result.train_loss, std::exp(result.train_loss), result.val_perplexity,
                        result.seconds, improved ? "  (best so far)" : ""));
    if (improved) {
      best = result.val_perplexity;
      report.best_epoch = epoch;
      best_parameters.clear();
      for (const Tensor& p : model.parameters()) best_parameters.push_back(p.clone());
      if (!o.save_path.empty() && root) {
        save_language_model(lm, o.save_path, best, epoch);
        if (o.log) o.log(fmt::format("saved {}", o.save_path));
      }
    }
  }
  // Hand back the best epoch's weights.
  const std::vector<Tensor> parameters = model.parameters();
  NoGrad no_grad;
  for (size_t i = 0; i < parameters.size() && !best_parameters.empty(); ++i)
    parameters[i].copy_(best_parameters[i]);
  report.val_perplexity = best;
  model.eval();
  return report;
}

double perplexity(const LanguageModel& lm, const std::vector<std::vector<std::string>>& sentences, int64_t batch_size) {
  if (sentences.empty()) fail("language_model: perplexity of no sentences");
  return evaluate_perplexity(*lm.model, encode(lm.vocab, sentences), batch_size);
}

void save_language_model(const LanguageModel& lm, const std::string& path, double val_perplexity, int epoch) {
  const WordModelConfig& c = lm.model->config();
  nn::save(*lm.model, path,
           {{"lm.vocab", lm.vocab.to_string()},
            {"lm.embed", std::to_string(c.embed)},
            {"lm.hidden", std::to_string(c.hidden)},
            {"lm.layers", std::to_string(c.layers)},
            {"lm.dropout", fmt::format("{}", c.dropout)},
            {"lm.val_perplexity", fmt::format("{}", val_perplexity)},
            {"lm.epoch", std::to_string(epoch)}});
}

LanguageModel load_language_model(const std::string& path, Device device) {
  if (!std::filesystem::exists(path)) fail("language_model: checkpoint '{}' does not exist", path);
  const std::map<std::string, std::string> metadata = load_safetensors(path).metadata;
  LanguageModel lm;
  lm.vocab = data::Vocab::from_string(metadata_value(metadata, "lm.vocab", path), path + " (lm.vocab)");
  WordModelConfig config;
  config.vocab = lm.vocab.size();
  config.embed = metadata_int(metadata, "lm.embed", path);
  config.hidden = metadata_int(metadata, "lm.hidden", path);
  config.layers = static_cast<int>(metadata_int(metadata, "lm.layers", path));
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

  std::vector<int64_t> context = {data::Vocab::bos_id};  // <bos> prompt...
  for (const int64_t id : lm.vocab.encode(prompt)) context.push_back(id);
  const Device device = model.device();
  auto token = [&](int64_t id) { return from_vector(std::vector<int64_t>{id}, Shape{1}, {DType::i64, device}); };  // (1)
  Tensor logits, state;
  for (const int64_t id : context) std::tie(logits, state) = model.step(token(id), state);

  std::vector<std::string> words;
  while (static_cast<int64_t>(words.size()) < options.max_words) {
    const int64_t next = choose(logits, options.temperature, gen);
    if (next == data::Vocab::eos_id) break;
    words.push_back(lm.vocab.token(next));
    std::tie(logits, state) = model.step(token(next), state);
  }
  return words;
}

}  // namespace tg::examples
