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

#include "apps/speech/speech.h"
#include "examples/cli_checks.h"
#include "examples/serve_flags.h"
#include "io/safetensors.h"
#include "io/text_file.h"
#include "tapegrad.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// What eval and transcribe read (train's options are tg::speech::TrainOptions).
struct Options {
  std::string data, split = "test", checkpoint, wav, svg;
  int64_t limit = 0, beam = 8, max_beam = 100, threads = 2;
  std::string lm_text, quantize = "none";
  int64_t lm_order = 0;
  double lm_weight = 0.5, lm_bonus = 1.0, max_seconds = 0;
};

// The largest --lm-order: a context of 19 characters already spans three or four words.
constexpr int64_t kMaxLmOrder = 20;

// The language model of --lm-order: the training transcripts of the corpus,
// or the lines of --lm-text.
std::unique_ptr<tg::speech::CharLM> language_model(const Options& o) {
  if (o.lm_order == 0) return nullptr;
  auto lm = std::make_unique<tg::speech::CharLM>(o.lm_order);
  std::vector<std::string> lines;
  if (o.lm_text.empty()) {
    lines = tg::speech::read_transcripts(o.data, "train");
  } else {
    std::ifstream in(o.lm_text);
    if (!in) tg::fail("speech: cannot read --lm-text {}", o.lm_text);
    for (std::string line; std::getline(in, line);)
      if (const std::string t = tg::speech::normalize_transcript(line); !t.empty()) lines.push_back(t);
  }
  for (const std::string& line : lines) lm->add(line);
  fmt::print("language model: characters, order {}, from {} sentences of {}; weight {}, bonus {}\n", o.lm_order,
             lines.size(), o.lm_text.empty() ? o.data + "/train.tsv" : o.lm_text, o.lm_weight, o.lm_bonus);
  return lm;
}

void print_rates(const std::string& name, const tg::speech::ErrorRates& r) {
  auto share = [](int64_t edits, int64_t length) { return 100.0 * static_cast<double>(edits) / static_cast<double>(length); };
  fmt::print("  {:30s} CER {:5.2f}% (sub {:.2f} del {:.2f} ins {:.2f})  WER {:5.2f}% (sub {:.2f} del {:.2f} ins {:.2f})\n",
             name, 100 * r.cer, share(r.char_edits.substitutions, r.chars), share(r.char_edits.deletions, r.chars),
             share(r.char_edits.insertions, r.chars), 100 * r.wer, share(r.word_edits.substitutions, r.words),
             share(r.word_edits.deletions, r.words), share(r.word_edits.insertions, r.words));
}

void evaluate(const Options& o, tg::Device device) {
  const auto model = tg::speech::load_recognizer(o.checkpoint, device, o.quantize);
  const std::unique_ptr<tg::speech::CharLM> lm = language_model(o);
  const Clock::time_point start = Clock::now();
  const std::vector<tg::speech::Utterance> data =
      tg::speech::read_split(o.data, o.split, {.limit = o.limit, .max_seconds = o.max_seconds});
  const tg::speech::Decoded d = tg::speech::decode_split(*model, data, o.beam, {.lm = lm.get(), .weight = o.lm_weight, .bonus = o.lm_bonus});
  fmt::print("{} ({} utterances, {:.1f} s); edits per 100 reference characters / words:\n", o.split, data.size(),
             seconds_since(start));
  print_rates("greedy", tg::speech::error_rates(d.greedy, d.references));
  if (o.beam > 1) print_rates(fmt::format("prefix beam {}", o.beam), tg::speech::error_rates(d.beam, d.references));
  if (lm) print_rates(fmt::format("prefix beam {} + LM", o.beam), tg::speech::error_rates(d.fused, d.references));
  // Per synthesizer, then per voice, the error rates: where the errors come from.
  struct Group {
    std::vector<std::string> greedy, fused, references;
  };
  std::map<std::string, Group> by_engine, by_voice;
  for (size_t i = 0; i < data.size(); ++i)
    for (Group* g : {&by_engine[tg::speech::engine_of(data[i].voice)], &by_voice[data[i].voice]}) {
      g->greedy.push_back(d.greedy[i]);
      if (lm) g->fused.push_back(d.fused[i]);
      g->references.push_back(d.references[i]);
    }
  auto print_group = [&](const std::string& name, const Group& g) {
    const tg::speech::ErrorRates greedy = tg::speech::error_rates(g.greedy, g.references);
    fmt::print("  {:34s} {:4d} utterances, greedy CER {:.2f}% WER {:.2f}%", name, g.references.size(), 100 * greedy.cer,
               100 * greedy.wer);
    if (lm) {
      const tg::speech::ErrorRates fused = tg::speech::error_rates(g.fused, g.references);
      fmt::print(", with LM {:.2f}% / {:.2f}%", 100 * fused.cer, 100 * fused.wer);
    }
    fmt::print("\n");
  };
  fmt::print("per synthesizer:\n");
  for (const auto& [engine, g] : by_engine) print_group(engine, g);
  fmt::print("per voice:\n");
  for (const auto& [voice, g] : by_voice) print_group(voice, g);
}

void transcribe(const Options& o, tg::Device device) {
  const auto model = tg::speech::load_recognizer(o.checkpoint, device, o.quantize);
  tg::NoGrad no_grad;
  const tg::Tensor features = tg::speech::features_of(o.wav, o.max_seconds);  // (T, 80)
  const tg::Tensor batch = tg::unsqueeze(tg::transpose(features, 0, 1).contiguous(), 0);  // (1, 80, T)
  std::vector<int64_t> frames;
  const tg::Tensor log_probs = model->forward(batch.to(device), {features.size(0)}, frames).to(tg::Device::cpu());
  const std::vector<float> rows = tg::select(log_probs, 1, 0).contiguous().to_vector<float>();
  const std::string text = tg::speech::decode_ids(o.beam > 1 ? tg::speech::prefix_beam_decode(rows, frames[0], tg::speech::kClasses, o.beam)
                                                         : tg::speech::greedy_decode(rows, frames[0], tg::speech::kClasses));
  fmt::print("{}\n", text);
  if (!o.svg.empty()) {
    tg::write_text_file(o.svg, tg::speech::alignment_svg(features, rows, frames[0], 2, "\u201c" + text + "\u201d"));
    std::fprintf(stderr, "speech: wrote %s\n", o.svg.c_str());
  }
}

// The beam bounded before any work (as translate's --max-beam): each audio
// frame of prefix beam search scores beam × 28 extensions.
void check_search(const Options& o) {
  if (o.beam > o.max_beam)
    tg::fail("--beam {} is more than --max-beam {}: each audio frame scores beam × 28 prefixes (about {} of "
             "candidates per frame for this beam); raise --max-beam to allow it",
             o.beam, o.max_beam, cli_checks::format_bytes(static_cast<double>(o.beam) * 28 * 64));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  tg::speech::TrainOptions t;
  CLI::App app{"speech: a CTC character recogniser (docs/speech.md)"};
  app.require_subcommand(1);
  CLI::App* train_cmd = app.add_subcommand(
      "train", "train on DIR/train.tsv, validate on DIR/val.tsv each epoch; Ctrl-C or SIGTERM stops and saves, --resume continues");
  train_cmd->add_option("--data", t.data, "corpus folder (scripts/synthesize-speech.sh)")->required();
  train_cmd->add_option("--epochs", t.epochs, "epochs in all (counting resumed ones)")->check(cli_checks::between(1, 1e6))->capture_default_str();
  train_cmd->add_option("--max-steps", t.max_steps, "stop (and save, resumably) after N updates in all (0: no limit)")
      ->check(cli_checks::between(0, 1e12))->capture_default_str();
  train_cmd->add_option("--batch-size", t.batch_size, "utterances per batch")->check(cli_checks::between(1, 1e6))->capture_default_str();
  train_cmd->add_option("--lr", t.lr, "Adam learning rate")->check(cli_checks::between(1e-8, 10))->capture_default_str();
  train_cmd->add_option("--clip", t.clip, "gradient norm clipping")->check(cli_checks::between(1e-6, 1e6))->capture_default_str();
  train_cmd->add_option("--dropout", t.dropout, "dropout")->check(cli_checks::between(0.0, 0.9))->capture_default_str();
  train_cmd->add_option("--channels", t.channels, "convolution channels")->check(cli_checks::between(1, 8192))->capture_default_str();
  train_cmd->add_option("--hidden", t.hidden, "GRU hidden size per direction")->check(cli_checks::between(1, 8192))->capture_default_str();
  train_cmd->add_option("--layers", t.layers, "GRU layers")->check(cli_checks::between(1, 16))->capture_default_str();
  train_cmd->add_option("--schedule", t.schedule, "learning rate: cosine (to lr/20, after --warmup steps) or constant")
      ->check(CLI::IsMember({"cosine", "constant"}))->capture_default_str();
  train_cmd->add_option("--warmup", t.warmup, "linear warm-up steps of the cosine schedule")->check(cli_checks::between(0, 1e9))->capture_default_str();
  train_cmd->add_option("--freq-masks", t.augment.freq_masks, "SpecAugment frequency masks per utterance (0: none)")
      ->check(cli_checks::between(0, 80))->capture_default_str();
  train_cmd->add_option("--freq-width", t.augment.freq_width, "widest frequency mask, in mel channels")->check(cli_checks::between(0, 80))->capture_default_str();
  train_cmd->add_option("--time-masks", t.augment.time_masks, "SpecAugment time masks per utterance (0: none)")
      ->check(cli_checks::between(0, 1000))->capture_default_str();
  train_cmd->add_option("--time-width", t.augment.time_width, "widest time mask, in frames (and at most 10% of the utterance)")
      ->check(cli_checks::between(0, 1e6))->capture_default_str();
  tg::speech::AudioAugment& audio = t.audio_augment;
  train_cmd->add_option("--speed", audio.speed, "speed perturbation: each utterance played faster or slower by a factor in [1-F, 1+F] (0: off)")
      ->check(cli_checks::between(0, 0.3))->capture_default_str();
  train_cmd->add_option("--pitch", audio.pitch, "pitch perturbation, tempo kept: up or down by up to this many semitones (0: off)")
      ->check(cli_checks::between(0, 6))->capture_default_str();
  train_cmd->add_option("--warp", audio.warp, "formant warp, pitch kept: the mel filters' frequencies × a factor in [1-F, 1+F] (vocal tract length perturbation; 0: off)")
      ->check(cli_checks::between(0, 0.3))->capture_default_str();
  train_cmd->add_option("--reverb", audio.reverb, "share of utterances put in a synthesized room (0: off)")
      ->check(cli_checks::between(0, 1))->capture_default_str();
  train_cmd->add_option("--rt60-low", audio.rt60_low, "the rooms' shortest reverberation time (s)")->check(cli_checks::between(0.05, 3))->capture_default_str();
  train_cmd->add_option("--rt60-high", audio.rt60_high, "the rooms' longest reverberation time (s)")->check(cli_checks::between(0.05, 3))->capture_default_str();
  train_cmd->add_option("--noise", audio.noise, "share of utterances with white, pink or brown noise added (0: off)")
      ->check(cli_checks::between(0, 1))->capture_default_str();
  train_cmd->add_option("--snr-low", audio.snr_low, "the noise's lowest signal-to-noise ratio (dB)")->check(cli_checks::between(-20, 80))->capture_default_str();
  train_cmd->add_option("--snr-high", audio.snr_high, "the noise's highest signal-to-noise ratio (dB)")->check(cli_checks::between(-20, 80))->capture_default_str();
  train_cmd->add_option("--seed", t.seed, "initialisation, batch order and dropout")->capture_default_str();
  train_cmd->add_option("--limit", t.limit, "use the first N utterances of each split (0: all)")->check(cli_checks::between(0, 1e12))->capture_default_str();
  train_cmd->add_option("--max-seconds", t.max_seconds, "refuse longer audio (a batch pads every utterance to its longest)")
      ->check(cli_checks::between(0.05, 3600))->capture_default_str();
  train_cmd->add_option("--checkpoint-dir", t.checkpoint_dir, "the run's folder: last.safetensors, best.safetensors, metrics.csv")->capture_default_str();
  train_cmd->add_flag("--resume", t.resume, "continue from <checkpoint-dir>/last.safetensors, with the run's own settings");
  train_cmd->add_flag("--overwrite", t.overwrite, "replace the run found in <checkpoint-dir> (refused otherwise)");
  CLI::App* eval_cmd = app.add_subcommand("eval", "CER and WER of a split, greedy and prefix beam search, per voice");
  eval_cmd->add_option("--data", o.data, "corpus folder")->required();
  eval_cmd->add_option("--split", o.split,
                       "train, val, test, or heldout (the synthesizer held out of training, where the corpus has "
                       "one): DIR/<split>.tsv")->capture_default_str();
  eval_cmd->add_option("--lm-order", o.lm_order, "also search with a character n-gram model of this order (0: none)")
      ->check(cli_checks::between(0, kMaxLmOrder))->capture_default_str();
  eval_cmd->add_option("--lm-text", o.lm_text, "the language model's text, a sentence a line (default: DIR/train.tsv's transcripts)");
  eval_cmd->add_option("--lm-weight", o.lm_weight, "weight of the language model's log-probability")
      ->check(cli_checks::between(0, 100))->capture_default_str();
  eval_cmd->add_option("--lm-bonus", o.lm_bonus, "score added per character (balances the model's cost of each)")
      ->check(cli_checks::between(-100, 100))->capture_default_str();
  eval_cmd->add_option("--limit", o.limit, "use the first N utterances of the split (0: all)")->check(cli_checks::between(0, 1e12))->capture_default_str();
  CLI::App* transcribe_cmd = app.add_subcommand(
      "transcribe", "write the text of an audio file (any format libsndfile reads, any rate: resampled to 16 kHz, channels mixed)");
  transcribe_cmd->add_option("wav", o.wav, "the audio file")->required();
  transcribe_cmd->add_option("--svg", o.svg, "also draw the spectrogram with the characters where CTC emits them");
  for (CLI::App* cmd : {eval_cmd, transcribe_cmd}) {
    cmd->add_option("--beam", o.beam, "prefix beam width (1: greedy only)")->check(cli_checks::between(1, 1e9))->capture_default_str();
    cmd->add_option("--max-beam", o.max_beam, "refuse a --beam above this")->check(cli_checks::between(1, 1e9))->capture_default_str();
    cmd->add_option("--max-seconds", o.max_seconds, "refuse audio longer than this (0: any length)")
        ->check(cli_checks::between(0, 1e6))->capture_default_str();
    cmd->add_option("--checkpoint", o.checkpoint, "model file")->default_val("runs/speech/best.safetensors");
    cmd->add_option("--quantize", o.quantize,
                    "int8: the recurrent layers' weights quantized to int8 per row (inputs per row at run time, sums "
                    "in int32; faster on AVX512-VNNI; docs/performance.md)")
        ->check(CLI::IsMember({"none", "int8"}))
        ->capture_default_str();
  }
  tg::speech::ServeOptions serve_options;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "answer POST /transcribe (audio in any format libsndfile reads) and OpenAI's /v1/audio/transcriptions over HTTP, with a page at /; SIGTERM or Ctrl-C finishes the "
               "requests in flight and stops (docs/serving.md)");
  serve_cmd->add_option("--checkpoint", serve_options.checkpoint, "model file")->default_val("runs/speech/best.safetensors");
  serve_cmd->add_option("--beam", serve_options.beam, "prefix beam width for the text (1: greedy)")
      ->check(cli_checks::between(1, 100))->capture_default_str();
  serve_cmd->add_option("--quantize", serve_options.quantize, "int8: the recurrent layers' weights in int8")
      ->check(CLI::IsMember({"none", "int8"}))->capture_default_str();
  serve_cmd->add_option("--max-seconds", serve_options.max_seconds, "refuse longer clips (400)")
      ->check(cli_checks::between(0.1, 3600))->capture_default_str();
  serve_flags::add_to(serve_cmd, serve_options.server, serve_options.batching,
                      {.item = "clip", .items = "clips", .max_batch_limit = 1024, .max_queue_limit = 1e6,
                       .api_key_help = "require this key (Authorization: Bearer, as OpenAI clients send it, X-API-Key or ?api_key=); without it 401 under /v1/, 403 elsewhere"});
  std::string device_name = "cpu";
  for (CLI::App* cmd : {train_cmd, eval_cmd, transcribe_cmd, serve_cmd}) {
    cmd->add_option("--threads", o.threads, "threads (more than the cores only slows down)")
        ->check(cli_checks::between(1, 1024))->capture_default_str();
    cmd->add_option("--device", device_name, "where the model runs: cpu, cuda or cuda:N (an NVIDIA GPU)")->capture_default_str();
  }
  CLI11_PARSE(app, argc, argv);
  try {
    cli_checks::note_if_more_threads_than_cores(static_cast<int>(o.threads));
    tg::set_num_threads(static_cast<int>(o.threads));
    const tg::Device device = tg::parse_device(device_name);
    tg::device_backend(device);  // an unusable device fails here, before any data is read
    if (train_cmd->parsed()) {
      if (t.audio_augment.rt60_low > t.audio_augment.rt60_high || t.audio_augment.snr_low > t.audio_augment.snr_high)
        tg::fail("speech train: --rt60-low {} and --snr-low {} must not exceed --rt60-high {} and --snr-high {}",
                 t.audio_augment.rt60_low, t.audio_augment.snr_low, t.audio_augment.rt60_high, t.audio_augment.snr_high);
      t.device = device;
      t.resume_command = fmt::format("speech train --data {} --checkpoint-dir {} --epochs {} --resume", t.data,
                                     t.checkpoint_dir, t.epochs);
      tg::speech::train(t, [&](const std::string& flag) { return train_cmd->count(flag) > 0; });
    } else if (serve_cmd->parsed()) {
      serve_options.device = device;
      return tg::speech::run_server(serve_options);
    } else {
      check_search(o);
      if (eval_cmd->parsed()) evaluate(o, device);
      else transcribe(o, device);
    }
  } catch (const std::exception& e) {
    const std::string message = e.what();
    std::fprintf(stderr, "%s%s\n", message.starts_with("speech") ? "" : "speech: ", message.c_str());
    return 1;
  }
  return 0;
}
