// speech: a character recogniser trained with CTC on a synthesized corpus
// (scripts/synthesize-speech.sh; the model in speech_model.h, the data in
// speech_data.h; docs/speech.md has the whole pipeline).
//
//   speech train --data DIR [--epochs 12] [--checkpoint-dir runs/speech]
//   speech eval --data DIR [--split test] [--beam 8] [--checkpoint runs/speech/best.safetensors]
//   speech transcribe FILE.wav [--checkpoint runs/speech/best.safetensors] [--svg picture.svg]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "speech_data.h"
#include "speech_model.h"
#include "speech_svg.h"
#include "seq2seq/svg.h"
#include "core/safetensors.h"
#include "tapegrad.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Options {
  std::string data, split = "test", checkpoint_dir = "runs/speech", checkpoint, wav, svg;
  int64_t epochs = 12, batch_size = 32, limit = 0, beam = 8, threads = 2, channels = 256, hidden = 256, layers = 3;
  double lr = 1e-3, clip = 5.0, dropout = 0.1;
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

std::unique_ptr<speech::Recognizer> load_model(const std::string& path) {
  const std::map<std::string, std::string> meta = tg::load_safetensors(path).metadata;  // the config keys
  auto get = [&](const char* key) {
    const auto it = meta.find(key);
    if (it == meta.end()) tg::fail("speech: {} has no '{}' in its metadata; it is not a recogniser checkpoint", path, key);
    return std::stoll(it->second);
  };
  tg::Generator gen(1);
  auto model = std::make_unique<speech::Recognizer>(
      speech::ModelConfig{.channels = get("channels"), .hidden = get("hidden"), .layers = get("layers")}, gen);
  tg::nn::load(*model, path);
  model->eval();
  return model;
}

// Transcripts of a split, greedy and (width > 1) prefix beam search.
struct Decoded {
  std::vector<std::string> greedy, beam, references;
};
Decoded decode_split(const speech::Recognizer& model, const std::vector<speech::Utterance>& data, int64_t width) {
  tg::NoGrad no_grad;
  Decoded d;
  for (const std::vector<size_t>& indices : speech::plan_batches(data, 32, 0)) {
    const speech::Batch batch = speech::make_batch(data, indices);
    std::vector<int64_t> frames;
    const tg::Tensor log_probs = tg::permute(model.forward(batch.features, batch.frames, frames), {1, 0, 2}).contiguous();
    for (size_t b = 0; b < indices.size(); ++b) {
      const std::vector<float> rows = tg::select(log_probs, 0, static_cast<int64_t>(b)).to_vector<float>();
      d.greedy.push_back(speech::decode_ids(speech::greedy_decode(rows, frames[b], speech::kClasses)));
      if (width > 1) d.beam.push_back(speech::decode_ids(speech::prefix_beam_decode(rows, frames[b], speech::kClasses, width)));
      d.references.push_back(data[indices[b]].text);
    }
  }
  return d;
}

void train(const Options& o) {
  const Clock::time_point start = Clock::now();
  const std::vector<speech::Utterance> train_set = speech::read_split(o.data, "train", o.limit);
  const std::vector<speech::Utterance> val_set = speech::read_split(o.data, "val", o.limit > 0 ? o.limit : 0);
  fmt::print("data: {} train, {} val utterances from {} (features {:.1f} s)\n", train_set.size(), val_set.size(), o.data,
             seconds_since(start));
  tg::Generator gen(o.seed);
  speech::Recognizer model(model_config(o), gen);
  tg::optim::AdamOptions adam_options;
  adam_options.lr = o.lr;
  tg::optim::Adam adam(model.named_parameters(), adam_options);
  std::filesystem::create_directories(o.checkpoint_dir);
  const std::string last = o.checkpoint_dir + "/last.safetensors", best_path = o.checkpoint_dir + "/best.safetensors";
  int64_t first_epoch = 1;
  double best_cer = 2.0;
  if (o.resume) {
    const tg::nn::Metadata meta = tg::train::load(model, adam, last);
    first_epoch = std::stoll(meta.at("epoch")) + 1;
    best_cer = std::stod(meta.at("best_cer"));
    fmt::print("resumed from {} after epoch {}\n", last, first_epoch - 1);
  }
  fmt::print("model: {} parameters (conv {}, GRU {}x{} bidirectional), batch {}, lr {}, threads {}\n",
             model.parameter_count(), o.channels, o.layers, o.hidden, o.batch_size, o.lr, o.threads);
  const std::vector<tg::Tensor> params = model.parameters();
  for (int64_t epoch = first_epoch; epoch <= o.epochs; ++epoch) {
    const Clock::time_point epoch_start = Clock::now();
    model.train();
    double loss_sum = 0;
    int64_t steps = 0, frames_seen = 0;
    const auto plan = speech::plan_batches(train_set, o.batch_size, o.seed * 1000 + static_cast<uint64_t>(epoch));
    for (const std::vector<size_t>& indices : plan) {
      const speech::Batch batch = speech::make_batch(train_set, indices);
      model.reseed(o.seed * 1000003 + static_cast<uint64_t>(epoch * 100000 + steps));
      tg::Tape tape;
      tg::TapeScope scope(tape);
      std::vector<int64_t> frames;
      const tg::Tensor log_probs = model.forward(batch.features, batch.frames, frames);
      const tg::Tensor loss = tg::ctc_loss(log_probs, batch.targets, frames, batch.target_lengths, speech::kBlank,
                                           tg::Reduction::mean, true);
      loss_sum += loss.item();
      loss.backward();
      tg::optim::clip_grad_norm(params, o.clip);
      adam.step();
      adam.zero_grad();
      ++steps;
      for (const int64_t f : batch.frames) frames_seen += f;
      if (steps % 50 == 0)
        fmt::print("  epoch {} step {}/{} loss {:.4f} ({:.0f} frames/s)\n", epoch, steps, plan.size(), loss_sum / steps,
                   static_cast<double>(frames_seen) / seconds_since(epoch_start));
      std::fflush(stdout);
    }
    const double train_seconds = seconds_since(epoch_start);
    model.eval();
    const Decoded val = decode_split(model, val_set, 1);
    const speech::ErrorRates rates = speech::error_rates(val.greedy, val.references);
    tg::nn::Metadata meta = config_metadata(model.config());
    meta["epoch"] = std::to_string(epoch);
    best_cer = std::min(best_cer, rates.cer);
    meta["best_cer"] = std::to_string(best_cer);
    tg::train::save(model, adam, last, meta);
    if (rates.cer <= best_cer) tg::nn::save(model, best_path, config_metadata(model.config()));
    fmt::print("epoch {} loss {:.4f} val CER {:.2f}% WER {:.2f}% (greedy) train {:.0f} s ({:.0f} frames/s), {:.0f} s in all\n",
               epoch, loss_sum / steps, 100 * rates.cer, 100 * rates.wer, train_seconds,
               static_cast<double>(frames_seen) / train_seconds, seconds_since(start));
    std::fflush(stdout);
  }
}

void evaluate(const Options& o) {
  const auto model = load_model(o.checkpoint);
  const Clock::time_point start = Clock::now();
  const std::vector<speech::Utterance> data = speech::read_split(o.data, o.split, o.limit);
  const Decoded d = decode_split(*model, data, o.beam);
  const speech::ErrorRates greedy = speech::error_rates(d.greedy, d.references);
  fmt::print("{} ({} utterances): greedy CER {:.2f}% WER {:.2f}%", o.split, data.size(), 100 * greedy.cer, 100 * greedy.wer);
  if (o.beam > 1) {
    const speech::ErrorRates beam = speech::error_rates(d.beam, d.references);
    fmt::print(", prefix beam {} CER {:.2f}% WER {:.2f}%", o.beam, 100 * beam.cer, 100 * beam.wer);
  }
  fmt::print(" ({:.1f} s)\n", seconds_since(start));
  // Per voice, the greedy CER: where the errors come from.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> by_voice;
  for (size_t i = 0; i < data.size(); ++i) {
    by_voice[data[i].voice].first.push_back(d.greedy[i]);
    by_voice[data[i].voice].second.push_back(d.references[i]);
  }
  for (const auto& [voice, pairs] : by_voice)
    fmt::print("  {:24s} {:4d} utterances, greedy CER {:.2f}%\n", voice, pairs.first.size(),
               100 * speech::error_rates(pairs.first, pairs.second).cer);
}

void transcribe(const Options& o) {
  const auto model = load_model(o.checkpoint);
  tg::NoGrad no_grad;
  const tg::Tensor features = speech::features_of(o.wav);  // (T, 80)
  const tg::Tensor batch = tg::unsqueeze(tg::transpose(features, 0, 1).contiguous(), 0);  // (1, 80, T)
  std::vector<int64_t> frames;
  const tg::Tensor log_probs = model->forward(batch, {features.size(0)}, frames);
  const std::vector<float> rows = tg::select(log_probs, 1, 0).contiguous().to_vector<float>();
  const std::string text = speech::decode_ids(o.beam > 1 ? speech::prefix_beam_decode(rows, frames[0], speech::kClasses, o.beam)
                                                         : speech::greedy_decode(rows, frames[0], speech::kClasses));
  fmt::print("{}\n", text);
  if (!o.svg.empty()) {
    tg::translate::write_text_file(o.svg, speech::alignment_svg(features, rows, frames[0], 2, "\u201c" + text + "\u201d"));
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
  train_cmd->add_option("--seed", o.seed, "initialisation, batch order and dropout")->capture_default_str();
  train_cmd->add_option("--checkpoint-dir", o.checkpoint_dir, "where last.safetensors and best.safetensors go")->capture_default_str();
  train_cmd->add_flag("--resume", o.resume, "continue from <checkpoint-dir>/last.safetensors");
  CLI::App* eval_cmd = app.add_subcommand("eval", "CER and WER of a split, greedy and prefix beam search, per voice");
  eval_cmd->add_option("--data", o.data, "corpus folder")->required();
  eval_cmd->add_option("--split", o.split, "train, val or test")->capture_default_str();
  eval_cmd->add_option("--beam", o.beam, "prefix beam width (1: greedy only)")->check(CLI::PositiveNumber)->capture_default_str();
  CLI::App* transcribe_cmd = app.add_subcommand("transcribe", "write the text of a 16 kHz WAV file");
  transcribe_cmd->add_option("wav", o.wav, "the audio file")->required();
  transcribe_cmd->add_option("--beam", o.beam, "prefix beam width (1: greedy)")->check(CLI::PositiveNumber)->capture_default_str();
  transcribe_cmd->add_option("--svg", o.svg, "also draw the spectrogram with the characters where CTC emits them");
  for (CLI::App* cmd : {train_cmd, eval_cmd, transcribe_cmd}) {
    cmd->add_option("--threads", o.threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--limit", o.limit, "use the first N utterances of each split (0: all)");
  }
  for (CLI::App* cmd : {eval_cmd, transcribe_cmd})
    cmd->add_option("--checkpoint", o.checkpoint, "model file")->default_val("runs/speech/best.safetensors");
  CLI11_PARSE(app, argc, argv);
  try {
    tg::set_num_threads(static_cast<int>(o.threads));
    if (train_cmd->parsed()) train(o);
    else if (eval_cmd->parsed()) evaluate(o);
    else transcribe(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "speech: %s\n", e.what());
    return 1;
  }
  return 0;
}
