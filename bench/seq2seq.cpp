// Training and decoding speed of the translation models (apps/translate),
// the tapegrad side of a side-by-side comparison with PyTorch
// (bench/seq2seq_torch.py; bench/seq2seq.sh runs both and prints the tables).
//
//   bench_seq2seq train  --model bahdanau --steps 100 --plan plan.txt --init init.safetensors
//   bench_seq2seq decode --model bahdanau --weights trained.safetensors --plan decode.txt --outputs out.txt
//
// train: the batches `translate train` would draw in its first epoch
// (Multi30k, vocabularies with min-freq 2, pairs over 50 tokens dropped,
// text::plan_epoch with the seed, bucketed batches of --batch-size); the
// first --steps of them are written to --plan with the model's settings, the
// initial parameters to --init (safetensors, tapegrad's parameter names), so
// the PyTorch side sees the same batches and starts from the same weights.
// Then the steps train.cpp runs: dropout reseeded from (seed, step), forward
// with teacher forcing, token-level cross entropy (padding ignored),
// backward, clip_grad_norm, Adam. All batches are built before timing; the
// first --warmup steps are not timed. tok_per_s = target tokens (those the
// loss counts, <eos> included) of the timed steps / their seconds.
//
// decode: greedy search (batches of --batch-size, in evaluation order:
// longest source first, as `translate eval` does) and beam search (the same
// batches, restricted to the first --beam-sentences, every sentence and beam
// of a batch in one step, as `translate eval` does) over the first --sentences
// sources of test_2016_flickr, with the weights of --weights; the greedy
// batches go to --plan, every output to --outputs ("greedy|beam <index>
// <ids>") for the PyTorch side to compare with. Output limit per sentence:
// evaluate.cpp's output_limit (2·source length + 10; greedy: of the batch's
// longest source). One untimed greedy batch warms up first. With
// --quantize int8 both searches run again after Seq2Seq::quantize_for_decoding
// (modes greedy-int8 and beam5-int8, outputs "greedy-int8|beam-int8", and
// identical_to_fp32=N/M: how many equal the float32 pass's). --profile prints
// each timed search's op profile (tg::Profiler: self time per op) to stderr;
// --products FILE appends each product shape's kernel and GFLOP/s to FILE
// (bench/product_table.h).
//
// Output, one line per result:
//   seq2seq impl=tapegrad model=bahdanau mode=train threads=2 ... tok_per_s=.. peak_rss_mb=.. first_loss=.. last_loss=..
//   seq2seq impl=tapegrad model=bahdanau mode=greedy threads=2 sentences=.. sent_per_s=.. peak_rss_mb=..
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/product_census.h"
#include "bench/product_table.h"
#include "core/dispatch/backend.h"
#include "core/dispatch/cuda.h"
#include "core/types/device.h"
#include "core/services/error.h"
#include "core/dispatch/matmul_precision.h"
#include "core/services/profiler.h"
#include "core/tensor/storage.h"
#include "core/autograd/tape.h"
#include "data/text/batching.h"
#include "data/text/multi30k_dir.h"
#include "data/text/subword.h"
#include "data/text/tokenizer.h"
#include "data/text/vocab.h"
#include "apps/translate/evaluate.h"
#include "io/text_file.h"
#include "nn/checkpoint.h"
#include "optim/adam.h"
#include "optim/clip_grad.h"
#include "apps/translate/search.h"
#include "apps/translate/models/seq2seq.h"
#include "seq2seq_flops.h"
#include "seq2seq_plan.h"
#include "train/grad_scaler.h"
#include "data/text/text_codec.h"
#include "apps/translate/train.h"
#include "apps/translate/translation_checkpoint.h"

namespace {

using namespace tg;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string model = "bahdanau";
  int threads = 2;
  std::string device = "cpu";  // cpu, cuda or cuda:N
  std::string data_dir;  // "" = text::find_multi30k_dir's search
  uint64_t seed = 1;
  int64_t embed = 256, hidden = 512;
  std::string vocab = "word";  // word, or subword: one joint SentencePiece unigram model, as `translate train --vocab subword --joint-vocab`
  int64_t vocab_size = 8000;
  bool tie_embeddings = false;
  int64_t layers = 3, heads = 4;  // transformer
  bool norm_first = true;
  // train
  int64_t steps = 100, batch_size = 64, warmup = 3;
  double dropout = 0.2, lr = 1e-3, clip = 1.0;
  bool recompute_encoder = false;
  std::string precision = "fp32";  // matrix products: fp32, tf32, bf16 or fp16 (with loss scaling)
  std::string init_path, save_path;
  // decode
  std::string weights_path, outputs_path;
  int64_t sentences = 1000, beam_sentences = 0;  // beam: 0 = as many as --sentences
  int64_t beam = 5;
  double length_penalty = 1.0;
  std::string quantize = "none";  // int8: after the float32 searches, the same with int8 output layers
  bool profile = false;  // the timed steps' (train) or each search's (decode) op profile (tg::Profiler) to stderr
  std::string products_path;  // each product shape's kernel and GFLOP/s appended here (bench/product_table.h)
  std::string plan_path;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Waits for the device's queued work, so that a host clock read after it covers that work.
void wait_for(Device device) {
  if (device.is_cuda()) cuda::synchronize(device);
}

// Peak device memory in use (MiB) on a GPU; 0 on the cpu.
double peak_device_mb(Device device) {
  return device.is_cuda() ? static_cast<double>(cuda::memory_stats(device).peak_in_use_bytes) / (1024.0 * 1024.0) : 0.0;
}

// Peak resident set of the process so far, in MiB (Linux reports ru_maxrss in KiB).
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// The training pairs and vocabularies `translate train` builds with its default
// settings (word), or with `--vocab subword --joint-vocab --vocab-size N`.
struct Corpus {
  text::Vocab src_vocab, tgt_vocab;
  text::TextCodec codec = text::TextCodec::words();
  std::vector<text::Example> train;
};

// A vocabulary whose ids are a subword model's, piece for piece (as train.cpp builds it).
text::Vocab subword_vocab(const text::SubwordModel& model) {
  std::string lines;
  for (const std::string& piece : model.pieces()) lines += piece + "\n";
  return text::Vocab::from_string(lines, "the subword model's pieces");
}

Corpus load_corpus(const Options& o) {
  const translate::TrainSettings settings;  // min_freq 2, max_len 50, all pairs
  const bool subword = o.vocab == "subword";
  const translate::SplitText text = translate::read_split(text::find_multi30k_dir(o.data_dir), "train", settings.limit_train, subword);
  Corpus corpus;
  if (subword) {  // deterministic: the train and decode runs train the same model
    std::vector<std::string> both;
    for (const std::string& line : text.src_raw) both.push_back(text::normalize_punctuation(line, "de"));
    for (const std::string& line : text.tgt_raw) both.push_back(text::normalize_punctuation(line, "en"));
    text::SubwordOptions options;
    options.vocab_size = o.vocab_size;
    const text::SubwordModel joint = text::SubwordModel::train(both, options);
    corpus.codec = text::TextCodec::subwords(joint, joint);
    corpus.src_vocab = corpus.tgt_vocab = subword_vocab(joint);
  }
  const auto src = translate::source_token_lists(corpus.codec, text), tgt = translate::target_token_lists(corpus.codec, text);
  if (!subword) {
    corpus.src_vocab = text::Vocab::build(src, settings.min_freq);
    corpus.tgt_vocab = text::Vocab::build(tgt, settings.min_freq);
  }
  corpus.train = text::encode_pairs(src, tgt, corpus.src_vocab, corpus.tgt_vocab);
  text::drop_long_examples(corpus.train, settings.max_len);
  return corpus;
}

translate::ModelConfig model_config(const Options& o, const Corpus& corpus, double dropout) {
  translate::ModelConfig config;
  config.kind = o.model;
  config.cell = "gru";
  config.src_vocab = corpus.src_vocab.size();
  config.tgt_vocab = corpus.tgt_vocab.size();
  config.embed = o.embed;
  config.hidden = o.hidden;
  config.dropout = dropout;
  config.recompute_encoder = o.recompute_encoder;
  config.tie_embeddings = o.tie_embeddings;
  config.layers = o.layers;
  config.heads = o.heads;
  config.norm_first = o.norm_first;
  return config;
}

bench::PlanConfig plan_config(const Options& o, const translate::ModelConfig& c) {
  return {{"model", c.kind},
          {"cell", c.cell},
          {"src_vocab", fmt::to_string(c.src_vocab)},
          {"tgt_vocab", fmt::to_string(c.tgt_vocab)},
          {"embed", fmt::to_string(c.embed)},
          {"hidden", fmt::to_string(c.hidden)},
          {"vocab", o.vocab},
          {"tie_embeddings", c.tie_embeddings ? "1" : "0"},
          {"layers", fmt::to_string(c.layers)},
          {"heads", fmt::to_string(c.heads)},
          {"norm_first", c.norm_first ? "1" : "0"},
          {"dropout", fmt::to_string(c.dropout)},
          {"lr", fmt::to_string(o.lr)},
          {"clip", fmt::to_string(o.clip)},
          {"seed", fmt::to_string(o.seed)},
          {"warmup", fmt::to_string(o.warmup)},
          {"beam", fmt::to_string(o.beam)},
          {"length_penalty", fmt::to_string(o.length_penalty)}};
}

// ---- train ----

void run_train(const Options& o) {
  const Corpus corpus = load_corpus(o);
  const translate::ModelConfig config = model_config(o, corpus, o.dropout);
  text::BatchOptions batch_options;
  batch_options.batch_size = o.batch_size;
  batch_options.seed = o.seed;
  const std::vector<std::vector<int64_t>> plan = text::plan_epoch(corpus.train, batch_options, 0);
  if (static_cast<int64_t>(plan.size()) < o.steps)
    fail("bench_seq2seq: --steps {} but the first epoch has only {} batches of {}", o.steps, plan.size(),
         o.batch_size);
  std::vector<text::Batch> batches;
  for (int64_t b = 0; b < o.steps; ++b) batches.push_back(text::make_batch(corpus.train, plan[b]));
  if (!o.plan_path.empty()) bench::write_train_plan(o.plan_path, plan_config(o, config), batches);
  const Device device = parse_device(o.device);
  for (text::Batch& batch : batches) batch = batch.to(device);

  std::unique_ptr<translate::Seq2Seq> model = translate::make_model(config, o.seed);
  if (!o.init_path.empty()) nn::save(*model, o.init_path);
  model->to(device);
  optim::AdamOptions adam_options;
  adam_options.lr = o.lr;
  optim::Adam adam(model->named_parameters(), adam_options);
  const std::vector<Tensor> params = model->parameters();
  model->train();

  // As translate train runs it: bf16 keeps float32 products where they are not slower (the note says so).
  const TrainingPrecision asked = training_precision(parse_matmul_precision(o.precision, "--precision"), device);
  if (!asked.note.empty()) fmt::print(stderr, "{}\n", asked.note);
  const MatmulPrecision precision = asked.precision;
  const MatmulPrecisionGuard products(precision);
  tg::train::GradScaler scaler({.enabled = precision == MatmulPrecision::fp16});
  const double start_rss_mb = peak_rss_mb();  // libraries, corpus, batches, model: before any step
  Tape tape;
  TapeScope use_tape(tape);
  double timed_seconds = 0, timed_flops = 0, first_loss = 0, last_loss = 0;
  int64_t timed_tokens = 0;
  size_t system_allocations_before_timing = 0;  // host allocator misses: fresh memory, faulted in on first touch
  // Where a step's memory goes, at the step whose forward holds the most:
  // live tensor bytes before it, after the forward (what the tape saved),
  // after the backward (the gradients), and its (T, B, V) logits.
  constexpr double mb = 1024.0 * 1024.0;
  auto in_use_mb = [] { return static_cast<double>(host_memory_stats().in_use_bytes) / mb; };
  double before_mb = 0, saved_mb = 0, after_backward_mb = 0, logits_mb = 0;
  std::optional<Profiler> profiler;
  // Seconds of the timed steps in each phase (host devices only: on a GPU a phase's end waits for nothing).
  enum Phase { forward_phase, backward_phase, clip_phase, optimizer_phase, phase_count };
  std::array<double, phase_count> phase_seconds{};
  for (int64_t step = 0; step < o.steps; ++step) {
    const text::Batch& batch = batches[static_cast<size_t>(step)];
    if (!o.products_path.empty()) cpu::set_product_census(step >= o.warmup);
    if (o.profile && step == o.warmup) profiler.emplace();
    const Clock::time_point start = Clock::now();
    model->reseed(translate::step_seed(o.seed, step));
    const double before = in_use_mb();
    const Tensor loss = model->loss(batch);
    const double value = loss.item();
    std::array<Clock::time_point, phase_count> phase_end{};
    phase_end[forward_phase] = Clock::now();
    const double saved = in_use_mb() - before;
    scaler.scale(loss).backward();
    if (saved > saved_mb) {
      before_mb = before;
      saved_mb = saved;
      after_backward_mb = in_use_mb() - before;
      logits_mb = static_cast<double>(batch.tgt_in.numel() * config.tgt_vocab * 4) / mb;  // float32 (T, B, V)
    }
    tape.clear();
    phase_end[backward_phase] = Clock::now();
    scaler.unscale(adam);
    // As translate train clips: on the host the factor is folded into Adam's read of each gradient.
    double clip_factor = 1;
    if (o.clip > 0) {
      if (device.is_host())
        clip_factor = optim::clip_grad_factor(params, o.clip).factor;
      else
        optim::clip_grad_norm(params, o.clip);
    }
    phase_end[clip_phase] = Clock::now();
    scaler.step(adam, clip_factor);
    scaler.update();
    adam.zero_grad();
    wait_for(device);
    phase_end[optimizer_phase] = Clock::now();
    const double seconds = seconds_since(start);
    if (step >= o.warmup)
      for (int phase = 0; phase < phase_count; ++phase)
        phase_seconds[phase] += std::chrono::duration<double>(phase_end[phase] - (phase == 0 ? start : phase_end[phase - 1])).count();
    if (step == 0) first_loss = value;
    last_loss = value;
    if (step + 1 == o.warmup) system_allocations_before_timing = host_memory_stats().system_allocations;
    if (step < o.warmup) continue;
    timed_seconds += seconds;
    timed_tokens += batch.num_tgt_tokens;
    timed_flops += bench::training_step_matmul_flops(config, batch.src.size(0), batch.size(), batch.tgt_in.size(0),
                                                     batch.num_tgt_tokens);
  }
  if (!o.products_path.empty()) {
    cpu::set_product_census(false);
    bench::append_product_table(o.products_path, "train");
  }
  if (profiler) {
    profiler->stop();
    fmt::print(stderr, "profile train ({} timed steps):\n{}\n", o.steps - o.warmup, profiler->format_table());
  }
  if (!o.save_path.empty()) nn::save(*model, o.save_path);
  const double tokens = static_cast<double>(timed_tokens);
  const auto timed_steps = static_cast<double>(o.steps - o.warmup);
  const HostMemoryStats memory = host_memory_stats();  // what of the RSS is live tensors, what the allocator keeps
  fmt::print("seq2seq impl=tapegrad model={} mode=train device={} precision={} threads={} vocab={} tied={} steps={} warmup={} batch={} dropout={} recompute_encoder={} "
             "tokens={} seconds={:.3f} tok_per_s={:.1f} matmul_mflop_per_tok={:.3f} start_rss_mb={:.1f} peak_rss_mb={:.1f} "
             "host_peak_in_use_mb={:.1f} host_cached_mb={:.1f} host_misses_per_step={:.1f} peak_device_mb={:.1f} first_loss={:.8g} last_loss={:.8g} "
             "step_before_mb={:.1f} step_saved_mb={:.1f} step_after_backward_mb={:.1f} step_logits_mb={:.1f}\n",
             o.model, device.str(), o.precision, o.threads, o.vocab, o.tie_embeddings, o.steps, o.warmup, o.batch_size, o.dropout, o.recompute_encoder, timed_tokens, timed_seconds,
             tokens / timed_seconds, timed_flops / tokens / 1e6, start_rss_mb, peak_rss_mb(),
             static_cast<double>(memory.peak_in_use_bytes) / mb, static_cast<double>(memory.cached_bytes) / mb,
             static_cast<double>(memory.system_allocations - system_allocations_before_timing) / timed_steps,
             peak_device_mb(device), first_loss, last_loss, before_mb, saved_mb, after_backward_mb, logits_mb);
  if (device.is_host())  // the step's phases, ms per timed step
    fmt::print("seq2seq_phases model={} precision={} threads={} forward_ms={:.2f} backward_ms={:.2f} clip_ms={:.2f} optimizer_ms={:.2f}\n",
               o.model, o.precision, o.threads, phase_seconds[forward_phase] * 1e3 / timed_steps,
               phase_seconds[backward_phase] * 1e3 / timed_steps, phase_seconds[clip_phase] * 1e3 / timed_steps,
               phase_seconds[optimizer_phase] * 1e3 / timed_steps);
}

// ---- decode ----

std::string ids_line(const char* kind, int64_t index, const std::vector<int64_t>& ids) {
  std::string line = fmt::format("{} {}", kind, index);
  for (const int64_t id : ids) line += fmt::format(" {}", id);
  return line + "\n";
}

void print_decode(const Options& o, const char* mode, int64_t sentences, double seconds, int64_t out_tokens,
                  const std::string& extra = "") {
  fmt::print("seq2seq impl=tapegrad model={} mode={} device={} threads={} sentences={} seconds={:.3f} sent_per_s={:.2f} "
             "out_tokens={} peak_rss_mb={:.1f}{}\n",
             o.model, mode, o.device, o.threads, sentences, seconds, static_cast<double>(sentences) / seconds, out_tokens,
             peak_rss_mb(), extra);
}

void run_decode(const Options& o) {
  if (o.weights_path.empty()) fail("bench_seq2seq decode: --weights FILE is required (bench_seq2seq train --save)");
  const Corpus corpus = load_corpus(o);
  const translate::ModelConfig config = model_config(o, corpus, 0.0);
  std::unique_ptr<translate::Seq2Seq> model = translate::make_model(config, o.seed);
  nn::load(*model, o.weights_path);
  const Device device = parse_device(o.device);
  model->to(device);
  model->eval();

  const translate::SplitText test = translate::read_split(text::find_multi30k_dir(o.data_dir), "test_2016_flickr",
                                                          o.sentences, corpus.codec.is_subword());
  const auto source_tokens = translate::source_token_lists(corpus.codec, test);
  std::vector<text::Example> sources(source_tokens.size());
  for (size_t i = 0; i < sources.size(); ++i) sources[i].src = corpus.src_vocab.encode(source_tokens[i]);
  std::vector<text::Batch> batches;
  for (const std::vector<int64_t>& indices : text::plan_eval(sources, o.batch_size))
    batches.push_back(text::make_batch(sources, indices));
  if (!o.plan_path.empty()) bench::write_decode_plan(o.plan_path, plan_config(o, config), batches);
  for (text::Batch& batch : batches) batch = batch.to(device);

  // Beam search runs over the first beam_count sentences, in the greedy batches (those of them that are among
  // the first beam_count), all sentences of a batch and their beams at once, as `translate eval` searches.
  const int64_t beam_count = o.beam_sentences > 0 ? std::min(o.beam_sentences, std::ssize(sources)) : std::ssize(sources);
  std::vector<text::Batch> beam_batches;
  for (const text::Batch& b : batches) {
    std::vector<int64_t> kept;
    for (const int64_t i : b.indices)
      if (i < beam_count) kept.push_back(i);
    if (!kept.empty()) beam_batches.push_back(text::make_batch(sources, kept).to(device));
  }
  std::string outputs;
  std::map<std::string, std::vector<std::vector<int64_t>>> first_pass;  // "greedy"/"beam" -> outputs in order
  // Times greedy and beam search; `suffix` ("" or "-int8") names the pass in the result lines and outputs.
  auto timed_pass = [&](const std::string& suffix) {
    auto greedy = [&](const text::Batch& b) {
      return translate::greedy_decode(*model, b.src, b.src_lengths, b.src_mask, translate::output_limit(b.src.size(0)));
    };
    auto record = [&](const std::string& kind, const std::vector<text::Batch>& from,
                      const std::vector<std::vector<translate::Hypothesis>>& hyps) {
      int64_t tokens = 0, same = 0, count = 0;
      for (size_t k = 0; k < from.size(); ++k)
        for (size_t i = 0; i < hyps[k].size(); ++i) {
          tokens += std::ssize(hyps[k][i].tokens);
          outputs += ids_line((kind + suffix).c_str(), from[k].indices[i], hyps[k][i].tokens);
          if (suffix.empty()) first_pass[kind].push_back(hyps[k][i].tokens);
          else same += first_pass[kind][static_cast<size_t>(count)] == hyps[k][i].tokens;
          ++count;
        }
      return std::pair{tokens, suffix.empty() ? std::string() : fmt::format(" identical_to_fp32={}/{}", same, count)};
    };
    greedy(batches.front());  // warm-up, untimed
    std::optional<Profiler> profiler;
    auto print_profile = [&](const std::string& search) {
      if (!profiler) return;
      profiler->stop();
      fmt::print(stderr, "profile {}{}:\n{}\n", search, suffix, profiler->format_table());
    };
    if (o.profile) profiler.emplace();
    cpu::set_product_census(!o.products_path.empty());
    Clock::time_point start = Clock::now();
    std::vector<std::vector<translate::Hypothesis>> greedy_hyps;
    for (const text::Batch& b : batches) greedy_hyps.push_back(greedy(b));
    const double greedy_seconds = seconds_since(start);
    print_profile("greedy");
    if (!o.products_path.empty()) bench::append_product_table(o.products_path, "greedy" + suffix);
    const auto [greedy_tokens, greedy_same] = record("greedy", batches, greedy_hyps);
    print_decode(o, ("greedy" + suffix).c_str(), std::ssize(sources), greedy_seconds, greedy_tokens, greedy_same);

    if (o.profile) profiler.emplace();
    start = Clock::now();
    std::vector<std::vector<translate::Hypothesis>> beam_hyps;
    for (const text::Batch& b : beam_batches) {
      std::vector<int64_t> max_lens;
      for (const int64_t i : b.indices) max_lens.push_back(translate::output_limit(std::ssize(sources[i].src)));
      beam_hyps.push_back(translate::beam_search(*model, b.src, b.src_lengths, b.src_mask, o.beam, max_lens,
                                                 o.length_penalty));
    }
    const double beam_seconds = seconds_since(start);
    print_profile(fmt::format("beam{}", o.beam));
    cpu::set_product_census(false);
    if (!o.products_path.empty()) bench::append_product_table(o.products_path, fmt::format("beam{}{}", o.beam, suffix));
    const auto [beam_tokens, beam_same] = record("beam", beam_batches, beam_hyps);
    print_decode(o, fmt::format("beam{}{}", o.beam, suffix).c_str(), beam_count, beam_seconds, beam_tokens, beam_same);
  };
  timed_pass("");
  if (o.quantize == "int8") {  // the same searches again with int8 output layers (translate --quantize int8)
    model->quantize_for_decoding();
    timed_pass("-int8");
  }
  if (!o.outputs_path.empty()) tg::write_text_file(o.outputs_path, outputs);
}

void add_common(CLI::App* cmd, Options& o) {
  cmd->add_option("--model", o.model, "cho, bahdanau or transformer")
      ->check(CLI::IsMember({"cho", "bahdanau", "transformer"}))
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "threads for kernels and OpenBLAS")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--data-dir", o.data_dir, "Multi30k directory (default: text::find_multi30k_dir's search)");
  cmd->add_option("--seed", o.seed, "model initialisation, batch plan and dropout seed")->capture_default_str();
  cmd->add_option("--embed", o.embed, "embedding size E")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--hidden", o.hidden, "hidden size H")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--vocab", o.vocab, "word, or subword (one joint SentencePiece unigram model)")
      ->check(CLI::IsMember({"word", "subword"}))->capture_default_str();
  cmd->add_option("--vocab-size", o.vocab_size, "subword: pieces, specials included")->check(CLI::Range(8, 1000000))
      ->capture_default_str();
  cmd->add_flag("--tie-embeddings", o.tie_embeddings,
                "bahdanau, transformer: the target embedding doubles as the output matrix");
  cmd->add_option("--layers", o.layers, "transformer: layers of the encoder and of the decoder")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--heads", o.heads, "transformer: attention heads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--post-norm{false}", o.norm_first, "transformer: LayerNorm after each residual sum");
  cmd->add_option("--products", o.products_path,
                  "append each matrix product shape's kernel, calls, share of the products' time and GFLOP/s to this "
                  "file (timed steps, each search)");
  cmd->add_option("--plan", o.plan_path, "write the exact batches here for bench/seq2seq_torch.py");
  cmd->add_option("--batch-size", o.batch_size, "sentences per batch")->check(CLI::PositiveNumber)->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Training and decoding speed of the translation models (twin: bench/seq2seq_torch.py)"};
  app.require_subcommand(1);
  CLI::App* train = app.add_subcommand("train", "time training steps; write the batch plan and initial weights");
  add_common(train, o);
  train->add_option("--steps", o.steps, "training steps")->check(CLI::PositiveNumber)->capture_default_str();
  train->add_flag("--recompute-encoder,--checkpoint-encoder", o.recompute_encoder, "recompute the encoder in backward (tg::recompute)");
  train->add_option("--warmup", o.warmup, "first steps not timed")->check(CLI::NonNegativeNumber)->capture_default_str();
  train->add_option("--dropout", o.dropout, "dropout p")->check(CLI::Range(0.0, 0.99))->capture_default_str();
  train->add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  train->add_option("--clip", o.clip, "gradient norm clip (0: none)")->check(CLI::NonNegativeNumber)->capture_default_str();
  train->add_option("--precision", o.precision, "matrix products: fp32, tf32, bf16 or fp16 (with loss scaling)")
      ->check(CLI::IsMember({"fp32", "tf32", "bf16", "fp16"}))
      ->capture_default_str();
  train->add_flag("--profile", o.profile, "print the timed steps' op profile (tg::Profiler) to stderr");
  train->add_option("--init", o.init_path, "write the initial parameters here (safetensors)");
  train->add_option("--save", o.save_path, "write the trained parameters here (safetensors)");
  CLI::App* decode = app.add_subcommand("decode", "time greedy and beam search over test_2016_flickr");
  add_common(decode, o);
  decode->add_option("--weights", o.weights_path, "parameters (bench_seq2seq train --save or --init)")->required();
  decode->add_option("--outputs", o.outputs_path, "write every output's token ids here");
  decode->add_option("--sentences", o.sentences, "the first N test sentences")->check(CLI::PositiveNumber)->capture_default_str();
  decode->add_option("--beam-sentences", o.beam_sentences, "beam search on the first N of them (0: all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  decode->add_option("--beam", o.beam, "beam size")->check(CLI::PositiveNumber)->capture_default_str();
  decode->add_option("--quantize", o.quantize,
                     "int8: time the searches again with int8 output layers (modes greedy-int8, beam5-int8)")
      ->check(CLI::IsMember({"none", "int8"}))
      ->capture_default_str();
  decode->add_flag("--profile", o.profile, "print each search's op profile (tg::Profiler) to stderr");
  decode->add_option("--length-penalty", o.length_penalty, "α: beam scores are log p / length^α")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    if (o.warmup >= o.steps) fail("bench_seq2seq: --warmup {} leaves no timed step of --steps {}", o.warmup, o.steps);
    tg::set_num_threads(o.threads);
    if (train->parsed()) run_train(o);
    else run_decode(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_seq2seq: %s\n", e.what());
    return 1;
  }
  return 0;
}
