// speech: a character recogniser trained with CTC on a synthesized corpus
// (scripts/synthesize-speech.sh; the model in speech_model.h, the data in
// speech_data.h; docs/speech.md has the whole pipeline).
//
//   speech train --data DIR [--epochs 12] [--checkpoint-dir runs/speech] [--device cuda]
//   speech eval --data DIR [--split test] [--beam 8] [--lm-order 8] [--checkpoint runs/speech/best.safetensors]
//   speech transcribe FILE.wav [--checkpoint runs/speech/best.safetensors] [--svg picture.svg]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "char_lm.h"
#include "speech_data.h"
#include "speech_decode.h"
#include "speech_model.h"
#include "speech_svg.h"
#include "io/safetensors.h"
#include "io/text_file.h"
#include "tapegrad.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Options {
  std::string data, split = "test", checkpoint_dir = "runs/speech", checkpoint, wav, svg, device = "cpu";
  int64_t epochs = 12, batch_size = 32, limit = 0, beam = 8, threads = 2, channels = 256, hidden = 256, layers = 3;
  double lr = 1e-3, clip = 5.0, dropout = 0.1;
  std::string schedule = "cosine", lm_text;
  int64_t lm_order = 0;
  double lm_weight = 0.5, lm_bonus = 1.0;
  int64_t warmup = 300;
  speech::SpecAugment augment;
  uint64_t seed = 1;
  bool resume = false;
};

speech::ModelConfig model_config(const Options& o) {
  return {.channels = o.channels, .hidden = o.hidden, .layers = o.layers, .dropout = o.dropout};
}

tg::nn::Metadata config_metadata(const speech::ModelConfig& c) {
  return {{"channels", std::to_string(c.channels)}, {"hidden", std::to_string(c.hidden)},
          {"layers", std::to_string(c.layers)}, {"dropout", std::to_string(c.dropout)}};
}

// A number of a checkpoint's metadata, whole and finite, or an error naming
// the file, the key and what it holds.
double metadata_number(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& path) {
  const auto it = meta.find(key);
  if (it == meta.end()) tg::fail("{} has no '{}' in its metadata; it is not a recogniser checkpoint", path, key);
  const std::string& text = it->second;
  char* end = nullptr;
  const double value = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
    tg::fail("{}: metadata '{}' is '{}', not a number", path, key, text);
  return value;
}
int64_t metadata_integer(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& path) {
  const double value = metadata_number(meta, key, path);
  if (value != std::floor(value) || std::abs(value) > 1e15)
    tg::fail("{}: metadata '{}' is '{}', not a whole number", path, key, meta.at(key));
  return static_cast<int64_t>(value);
}

std::unique_ptr<speech::Recognizer> load_model(const std::string& path, tg::Device device) {
  const std::map<std::string, std::string> meta = tg::load_safetensors(path).metadata;  // the config keys
  auto get = [&](const char* key) { return metadata_integer(meta, key, path); };
  tg::Generator gen(1);
  auto model = std::make_unique<speech::Recognizer>(
      speech::ModelConfig{.channels = get("channels"), .hidden = get("hidden"), .layers = get("layers")}, gen);
  tg::nn::load(*model, path);
  model->to(device);
  model->eval();
  return model;
}

// Transcripts of a split, greedy and (width > 1) prefix beam search, without
// and (fusion.lm) with the language model.
struct Decoded {
  std::vector<std::string> greedy, beam, fused, references;
};
Decoded decode_split(const speech::Recognizer& model, const std::vector<speech::Utterance>& data, int64_t width,
                     const speech::LMFusion& fusion = {}) {
  tg::NoGrad no_grad;
  Decoded d;
  for (const std::vector<size_t>& indices : speech::plan_batches(data, 32, 0)) {
    const speech::Batch batch = speech::make_batch(data, indices);
    std::vector<int64_t> frames;
    const tg::Tensor on_device = model.forward(batch.features.to(model.out.weight.device()), batch.frames, frames);
    const tg::Tensor log_probs = tg::permute(on_device.to(tg::Device::cpu()), {1, 0, 2}).contiguous();
    for (size_t b = 0; b < indices.size(); ++b) {
      const std::vector<float> rows = tg::select(log_probs, 0, static_cast<int64_t>(b)).to_vector<float>();
      d.greedy.push_back(speech::decode_ids(speech::greedy_decode(rows, frames[b], speech::kClasses)));
      if (width > 1) d.beam.push_back(speech::decode_ids(speech::prefix_beam_decode(rows, frames[b], speech::kClasses, width)));
      if (fusion.lm)
        d.fused.push_back(speech::decode_ids(speech::prefix_beam_decode(rows, frames[b], speech::kClasses, width, fusion)));
      d.references.push_back(data[indices[b]].text);
    }
  }
  return d;
}

// What training carries from epoch to epoch: the model, its optimizer and
// schedule, where the run goes on from, and the best validation CER so far.
struct Training {
  Training(const Options& o, tg::Device device, int64_t steps_per_epoch)
      : gen(o.seed), model(model_config(o), gen) {
    model.to(device);  // before the optimizer takes the parameters
    adam = std::make_unique<tg::optim::Adam>(model.named_parameters(), adam_options(o));
    params = model.parameters();
    // Cosine from lr down to lr/20 over the whole run, after a linear warm-up.
    if (o.schedule == "cosine")
      cosine = std::make_unique<tg::optim::CosineAnnealingLR>(
          *adam, std::max<int64_t>(1, o.epochs * steps_per_epoch - o.warmup), o.lr / 20, o.warmup);
  }
  static tg::optim::AdamOptions adam_options(const Options& o) {
    tg::optim::AdamOptions options;
    options.lr = o.lr;
    return options;
  }

  tg::Generator gen;
  speech::Recognizer model;
  std::unique_ptr<tg::optim::Adam> adam;
  std::vector<tg::Tensor> params;  // what clipping reads every step
  std::unique_ptr<tg::optim::CosineAnnealingLR> cosine;
  int64_t first_epoch = 1;
  double best_cer = 2.0;
};

// Picks up `last` of the checkpoint folder: parameters, optimizer, schedule, epoch and best CER.
void resume(Training& t, const std::string& last) {
  const tg::nn::Metadata meta = tg::train::load(t.model, *t.adam, last, {}, t.cosine.get());
  t.first_epoch = metadata_integer(meta, "epoch", last) + 1;
  t.best_cer = metadata_number(meta, "best_cer", last);
  fmt::print("resumed from {} after epoch {}\n", last, t.first_epoch - 1);
}

// One update on one batch (SpecAugment, dropout seeded by epoch and step); returns the mean CTC loss.
double train_step(Training& t, const Options& o, const std::vector<speech::Utterance>& train_set,
                  const std::vector<size_t>& indices, int64_t epoch, int64_t step, tg::Device device,
                  int64_t& frames_seen) {
  speech::Batch batch = speech::make_batch(train_set, indices);
  speech::spec_augment(batch, o.augment, o.seed * 7919 + static_cast<uint64_t>(epoch * 100000 + step));
  t.model.reseed(o.seed * 1000003 + static_cast<uint64_t>(epoch * 100000 + step));
  tg::Tape tape;
  tg::TapeScope scope(tape);
  std::vector<int64_t> frames;
  const tg::Tensor log_probs = t.model.forward(batch.features.to(device), batch.frames, frames);
  const tg::Tensor loss = tg::ctc_loss(log_probs, batch.targets, frames, batch.target_lengths, speech::kBlank,
                                       tg::Reduction::mean, true);
  const double value = loss.item();
  loss.backward();
  tg::optim::clip_grad_norm(t.params, o.clip);
  t.adam->step();
  t.adam->zero_grad();
  if (t.cosine) t.cosine->step();
  for (const int64_t f : batch.frames) frames_seen += f;
  return value;
}

struct EpochTotals {
  double loss_sum = 0;
  int64_t steps = 0, frames_seen = 0;
  double seconds = 0;
};

// Every batch of the training set once, in the epoch's shuffled order, with a progress line every 50 steps.
EpochTotals train_epoch(Training& t, const Options& o, const std::vector<speech::Utterance>& train_set, int64_t epoch,
                        tg::Device device) {
  const Clock::time_point epoch_start = Clock::now();
  t.model.train();
  EpochTotals totals;
  const auto plan = speech::plan_batches(train_set, o.batch_size, o.seed * 1000 + static_cast<uint64_t>(epoch));
  for (const std::vector<size_t>& indices : plan) {
    totals.loss_sum += train_step(t, o, train_set, indices, epoch, totals.steps, device, totals.frames_seen);
    ++totals.steps;
    if (totals.steps % 50 == 0)
      fmt::print("  epoch {} step {}/{} loss {:.4f} lr {:.2e} ({:.0f} frames/s)\n", epoch, totals.steps, plan.size(),
                 totals.loss_sum / totals.steps, t.adam->lr(),
                 static_cast<double>(totals.frames_seen) / seconds_since(epoch_start));
    std::fflush(stdout);
  }
  totals.seconds = seconds_since(epoch_start);
  return totals;
}

// Greedy CER/WER on the validation set; saves `last` (to resume) and, at a new best CER, `best`.
speech::ErrorRates validate_and_save(Training& t, const std::vector<speech::Utterance>& val_set, int64_t epoch,
                                     const std::string& last, const std::string& best_path) {
  t.model.eval();
  const Decoded val = decode_split(t.model, val_set, 1);
  const speech::ErrorRates rates = speech::error_rates(val.greedy, val.references);
  tg::nn::Metadata meta = config_metadata(t.model.config());
  meta["epoch"] = std::to_string(epoch);
  t.best_cer = std::min(t.best_cer, rates.cer);
  meta["best_cer"] = std::to_string(t.best_cer);
  tg::train::save(t.model, *t.adam, last, meta, t.cosine.get());
  if (rates.cer <= t.best_cer) tg::nn::save(t.model, best_path, config_metadata(t.model.config()));
  return rates;
}

void train(const Options& o, tg::Device device) {
  const Clock::time_point start = Clock::now();
  const std::vector<speech::Utterance> train_set = speech::read_split(o.data, "train", o.limit);
  const std::vector<speech::Utterance> val_set = speech::read_split(o.data, "val", o.limit > 0 ? o.limit : 0);
  fmt::print("data: {} train, {} val utterances from {} (features {:.1f} s)\n", train_set.size(), val_set.size(), o.data,
             seconds_since(start));
  const int64_t steps_per_epoch = (static_cast<int64_t>(train_set.size()) + o.batch_size - 1) / o.batch_size;
  Training t(o, device, steps_per_epoch);
  std::filesystem::create_directories(o.checkpoint_dir);
  const std::string last = o.checkpoint_dir + "/last.safetensors", best_path = o.checkpoint_dir + "/best.safetensors";
  if (o.resume) resume(t, last);
  fmt::print("model: {} parameters (conv {}, GRU {}x{} bidirectional), batch {}, lr {} ({}), on {}, threads {}\n",
             t.model.parameter_count(), o.channels, o.layers, o.hidden, o.batch_size, o.lr, o.schedule, device.str(),
             o.threads);
  fmt::print("SpecAugment: {} frequency masks of up to {} channels, {} time masks of up to {} frames ({:.0f}% of each)\n",
             o.augment.freq_masks, o.augment.freq_width, o.augment.time_masks, o.augment.time_width, 100 * o.augment.time_ratio);
  for (int64_t epoch = t.first_epoch; epoch <= o.epochs; ++epoch) {
    const EpochTotals totals = train_epoch(t, o, train_set, epoch, device);
    const speech::ErrorRates rates = validate_and_save(t, val_set, epoch, last, best_path);
    fmt::print("epoch {} loss {:.4f} val CER {:.2f}% WER {:.2f}% (greedy) train {:.0f} s ({:.0f} frames/s), {:.0f} s in all\n",
               epoch, totals.loss_sum / totals.steps, 100 * rates.cer, 100 * rates.wer, totals.seconds,
               static_cast<double>(totals.frames_seen) / totals.seconds, seconds_since(start));
    std::fflush(stdout);
  }
}

// The language model of --lm-order: the training transcripts of the corpus,
// or the lines of --lm-text.
std::unique_ptr<speech::CharLM> language_model(const Options& o) {
  if (o.lm_order == 0) return nullptr;
  auto lm = std::make_unique<speech::CharLM>(o.lm_order);
  std::vector<std::string> lines;
  if (o.lm_text.empty()) {
    lines = speech::read_transcripts(o.data, "train");
  } else {
    std::ifstream in(o.lm_text);
    if (!in) tg::fail("speech: cannot read --lm-text {}", o.lm_text);
    for (std::string line; std::getline(in, line);)
      if (const std::string t = speech::normalize_transcript(line); !t.empty()) lines.push_back(t);
  }
  for (const std::string& line : lines) lm->add(line);
  fmt::print("language model: characters, order {}, from {} sentences of {}; weight {}, bonus {}\n", o.lm_order,
             lines.size(), o.lm_text.empty() ? o.data + "/train.tsv" : o.lm_text, o.lm_weight, o.lm_bonus);
  return lm;
}

void print_rates(const std::string& name, const speech::ErrorRates& r) {
  auto share = [](int64_t edits, int64_t length) { return 100.0 * static_cast<double>(edits) / static_cast<double>(length); };
  fmt::print("  {:30s} CER {:5.2f}% (sub {:.2f} del {:.2f} ins {:.2f})  WER {:5.2f}% (sub {:.2f} del {:.2f} ins {:.2f})\n",
             name, 100 * r.cer, share(r.char_edits.substitutions, r.chars), share(r.char_edits.deletions, r.chars),
             share(r.char_edits.insertions, r.chars), 100 * r.wer, share(r.word_edits.substitutions, r.words),
             share(r.word_edits.deletions, r.words), share(r.word_edits.insertions, r.words));
}

void evaluate(const Options& o, tg::Device device) {
  const auto model = load_model(o.checkpoint, device);
  const std::unique_ptr<speech::CharLM> lm = language_model(o);
  const Clock::time_point start = Clock::now();
  const std::vector<speech::Utterance> data = speech::read_split(o.data, o.split, o.limit);
  const Decoded d = decode_split(*model, data, o.beam, {.lm = lm.get(), .weight = o.lm_weight, .bonus = o.lm_bonus});
  fmt::print("{} ({} utterances, {:.1f} s); edits per 100 reference characters / words:\n", o.split, data.size(),
             seconds_since(start));
  print_rates("greedy", speech::error_rates(d.greedy, d.references));
  if (o.beam > 1) print_rates(fmt::format("prefix beam {}", o.beam), speech::error_rates(d.beam, d.references));
  if (lm) print_rates(fmt::format("prefix beam {} + LM", o.beam), speech::error_rates(d.fused, d.references));
  // Per voice, the character error rates: where the errors come from.
  struct Voice {
    std::vector<std::string> greedy, fused, references;
  };
  std::map<std::string, Voice> by_voice;
  for (size_t i = 0; i < data.size(); ++i) {
    Voice& v = by_voice[data[i].voice];
    v.greedy.push_back(d.greedy[i]);
    if (lm) v.fused.push_back(d.fused[i]);
    v.references.push_back(d.references[i]);
  }
  for (const auto& [voice, v] : by_voice) {
    fmt::print("  {:24s} {:4d} utterances, greedy CER {:.2f}%", voice, v.references.size(),
               100 * speech::error_rates(v.greedy, v.references).cer);
    if (lm) fmt::print(", with LM {:.2f}%", 100 * speech::error_rates(v.fused, v.references).cer);
    fmt::print("\n");
  }
}

void transcribe(const Options& o, tg::Device device) {
  const auto model = load_model(o.checkpoint, device);
  tg::NoGrad no_grad;
  const tg::Tensor features = speech::features_of(o.wav);  // (T, 80)
  const tg::Tensor batch = tg::unsqueeze(tg::transpose(features, 0, 1).contiguous(), 0);  // (1, 80, T)
  std::vector<int64_t> frames;
  const tg::Tensor log_probs = model->forward(batch.to(device), {features.size(0)}, frames).to(tg::Device::cpu());
  const std::vector<float> rows = tg::select(log_probs, 1, 0).contiguous().to_vector<float>();
  const std::string text = speech::decode_ids(o.beam > 1 ? speech::prefix_beam_decode(rows, frames[0], speech::kClasses, o.beam)
                                                         : speech::greedy_decode(rows, frames[0], speech::kClasses));
  fmt::print("{}\n", text);
  if (!o.svg.empty()) {
    tg::write_text_file(o.svg, speech::alignment_svg(features, rows, frames[0], 2, "\u201c" + text + "\u201d"));
    std::fprintf(stderr, "speech: wrote %s\n", o.svg.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"speech: a CTC character recogniser (docs/speech.md)"};
  app.require_subcommand(1);
  CLI::App* train_cmd = app.add_subcommand("train", "train on DIR/train.tsv, validate on DIR/val.tsv each epoch");
  train_cmd->add_option("--data", o.data, "corpus folder (scripts/synthesize-speech.sh)")->required();
  train_cmd->add_option("--epochs", o.epochs, "epochs in all (counting resumed ones)")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--batch-size", o.batch_size, "utterances per batch")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--clip", o.clip, "gradient norm clipping")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--dropout", o.dropout, "dropout")->check(CLI::Range(0.0, 0.9))->capture_default_str();
  train_cmd->add_option("--channels", o.channels, "convolution channels")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--hidden", o.hidden, "GRU hidden size per direction")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--layers", o.layers, "GRU layers")->check(CLI::PositiveNumber)->capture_default_str();
  train_cmd->add_option("--schedule", o.schedule, "learning rate: cosine (to lr/20, after --warmup steps) or constant")
      ->check(CLI::IsMember({"cosine", "constant"}))->capture_default_str();
  train_cmd->add_option("--warmup", o.warmup, "linear warm-up steps of the cosine schedule")->check(CLI::NonNegativeNumber)->capture_default_str();
  train_cmd->add_option("--freq-masks", o.augment.freq_masks, "SpecAugment frequency masks per utterance (0: none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_cmd->add_option("--freq-width", o.augment.freq_width, "widest frequency mask, in mel channels")->check(CLI::NonNegativeNumber)->capture_default_str();
  train_cmd->add_option("--time-masks", o.augment.time_masks, "SpecAugment time masks per utterance (0: none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_cmd->add_option("--time-width", o.augment.time_width, "widest time mask, in frames (and at most 10% of the utterance)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  train_cmd->add_option("--seed", o.seed, "initialisation, batch order and dropout")->capture_default_str();
  train_cmd->add_option("--checkpoint-dir", o.checkpoint_dir, "where last.safetensors and best.safetensors go")->capture_default_str();
  train_cmd->add_flag("--resume", o.resume, "continue from <checkpoint-dir>/last.safetensors");
  CLI::App* eval_cmd = app.add_subcommand("eval", "CER and WER of a split, greedy and prefix beam search, per voice");
  eval_cmd->add_option("--data", o.data, "corpus folder")->required();
  eval_cmd->add_option("--split", o.split, "train, val or test")->capture_default_str();
  eval_cmd->add_option("--beam", o.beam, "prefix beam width (1: greedy only)")->check(CLI::PositiveNumber)->capture_default_str();
  eval_cmd->add_option("--lm-order", o.lm_order, "also search with a character n-gram model of this order (0: none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  eval_cmd->add_option("--lm-text", o.lm_text, "the language model's text, a sentence a line (default: DIR/train.tsv's transcripts)");
  eval_cmd->add_option("--lm-weight", o.lm_weight, "weight of the language model's log-probability")->capture_default_str();
  eval_cmd->add_option("--lm-bonus", o.lm_bonus, "score added per character (balances the model's cost of each)")->capture_default_str();
  CLI::App* transcribe_cmd = app.add_subcommand("transcribe", "write the text of a 16 kHz WAV file");
  transcribe_cmd->add_option("wav", o.wav, "the audio file")->required();
  transcribe_cmd->add_option("--beam", o.beam, "prefix beam width (1: greedy)")->check(CLI::PositiveNumber)->capture_default_str();
  transcribe_cmd->add_option("--svg", o.svg, "also draw the spectrogram with the characters where CTC emits them");
  for (CLI::App* cmd : {train_cmd, eval_cmd, transcribe_cmd}) {
    cmd->add_option("--threads", o.threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--limit", o.limit, "use the first N utterances of each split (0: all)");
    cmd->add_option("--device", o.device, "where the model runs: cpu, cuda or cuda:N (an NVIDIA GPU)")->capture_default_str();
  }
  for (CLI::App* cmd : {eval_cmd, transcribe_cmd})
    cmd->add_option("--checkpoint", o.checkpoint, "model file")->default_val("runs/speech/best.safetensors");
  CLI11_PARSE(app, argc, argv);
  try {
    tg::set_num_threads(static_cast<int>(o.threads));
    const tg::Device device = tg::parse_device(o.device);
    tg::device_backend(device);  // an unusable device fails here, before any data is read
    if (train_cmd->parsed()) train(o, device);
    else if (eval_cmd->parsed()) evaluate(o, device);
    else transcribe(o, device);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    std::fprintf(stderr, "%s%s\n", message.starts_with("speech: ") ? "" : "speech: ", message.c_str());
    return 1;
  }
  return 0;
}
