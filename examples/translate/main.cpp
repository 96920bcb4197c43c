// translate: German→English translation on Multi30k with Cho et al.'s RNN
// encoder–decoder or Bahdanau et al.'s attention model.
//
//   translate train --model bahdanau --epochs 10          train; Ctrl-C stops, --resume continues
//   translate train --model cho --cell lstm               LSTM encoder and decoder instead of GRU (the default)
//   translate train --model bahdanau --device cuda        the same on an NVIDIA GPU (every command takes --device)
//   translate eval --checkpoint runs/bahdanau/best.safetensors --split test_2016_flickr --beam 5
//   translate eval --checkpoint runs/bahdanau/best.safetensors --src news.de.gz --ref news.en.gz
//   translate translate --checkpoint runs/bahdanau/best.safetensors "Ein Mann fährt Fahrrad."
//   translate shortlist --checkpoint runs/bahdanau/best.safetensors    a vocabulary shortlist for faster decoding
//   translate eval --checkpoint runs/bahdanau/best.safetensors --shortlist runs/bahdanau/best.shortlist
//   translate quantize --checkpoint runs/bahdanau/best.safetensors     an int8 checkpoint for decoding (a quarter of the size)
//   translate average runs/b/epoch-8.safetensors runs/b/epoch-9.safetensors --out runs/b/avg.safetensors
//   translate serve --checkpoint runs/bahdanau/best.safetensors --port 8080   LibreTranslate's and OpenNMT-py's APIs
//   translate langid --checkpoint runs/b/best.safetensors      the language identifier serve's /detect reads, for a
//                                                              checkpoint whose folder lacks the one train saves
//   mpirun -np 4 translate train --model bahdanau --batch-size 256
//                                4 processes, each a quarter of every batch (docs/distributed.md)
//
// See docs/translate.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "distributed/rank_device.h"
#include "distributed/run.h"
#include "examples/cli_checks.h"
#include "examples/serve_flags.h"
#include "io/text_file.h"
#include "apps/translate/translate.h"
#include "signals/stop_signals.h"
#include "train/harness.h"
#include "train/progress.h"

namespace {

namespace tr = tg::translate;

// What `eval` reads: a Multi30k split, or any pair of raw parallel files.
struct EvalInput {
  std::string split;            // used when src_path is empty
  std::string src_path, ref_path;
  std::string data_dir;
  int64_t limit = 0;
};

// The search options eval and translate share.
struct SearchOptions {
  int64_t beam = 1;
  double alpha = 1.0;
  std::string penalty_form = "power";
  int64_t max_beam = 100;
  std::string quantize = "none";
  std::string shortlist;

  void add_to(CLI::App* cmd) {
    cmd->add_option("--beam", beam, "beam size (1: greedy)")->check(cli_checks::positive())->capture_default_str();
    cmd->add_option("--length-penalty", alpha,
                    "α: beam scores are log p / length^α (or, with --length-penalty-form gnmt, log p / ((5 + "
                    "length) / 6)^α)")
        ->check(cli_checks::between(0, 5))
        ->capture_default_str();
    cmd->add_option("--max-beam", max_beam,
                    "refuse a --beam above this: each step keeps beam × vocabulary scores per sentence")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--length-penalty-form", penalty_form, "power: length^α; gnmt: ((5 + length) / 6)^α (Wu et al. 2016)")
        ->check(CLI::IsMember({"power", "gnmt"}))
        ->capture_default_str();
    cmd->add_option("--quantize", quantize,
                    "int8: decode with int8 weights, per row (inputs per row at run time, sums in int32): the output "
                    "layer, and in the recurrent models the decoder cell, the attention's query and the encoder; "
                    "faster on AVX512-VNNI, about 4x less weight memory (docs/performance.md)")
        ->check(CLI::IsMember({"none", "int8"}))
        ->capture_default_str();
    cmd->add_option("--shortlist", shortlist,
                    "decode on a vocabulary shortlist written by `translate shortlist`: each batch's output layer "
                    "computes only the target words its source words' lists and the most frequent words allow")
        ->check(CLI::ExistingFile);
  }

  // The translator ready for this search: quantized and shortlisted when asked.
  void prepare(tr::Translator& translator) const {
    if (translator.info.weights == "int8") {
      fmt::print(stderr, "decoding with int8 weights (an int8 checkpoint)\n");
    } else if (quantize == "int8") {
      tr::decode_with_int8_weights(translator);
      fmt::print(stderr, "decoding with int8 weights (--quantize int8)\n");
    }
    if (!shortlist.empty()) {
      tr::use_shortlist_file(translator, shortlist);
      const tr::ShortlistOptions& o = translator.model->shortlist()->options();
      fmt::print(stderr, "decoding on the shortlist {} ({} frequent, {} best per source word)\n", shortlist,
                 o.frequent, o.best);
    }
  }

  tr::LengthPenalty length_penalty() const { return {alpha, penalty_form == "gnmt"}; }

  // After parsing: a beam the machine cannot hold is refused before any work.
  void check() const {
    if (beam > max_beam)
      tg::fail("--beam {} is more than --max-beam {}: each decoding step scores beam × vocabulary candidates per "
               "sentence (with a 10,000-word vocabulary, {} of float32 for this beam); raise --max-beam to "
               "allow it",
               beam, max_beam, cli_checks::format_bytes(static_cast<double>(beam) * 1e4 * 4));
  }
};

// Where the hypotheses go by default: beside the checkpoint, named for the
// checkpoint, the input and the search, so that runs of different searches or
// checkpoints never replace each other's files:
//   best.safetensors, --split test_2016_flickr, --beam 5  ->  best.test_2016_flickr.beam5.hyps.en
//   last.safetensors, --src news.de.gz, greedy            ->  last.news.greedy.hyps.en
//   best.safetensors, --split val, greedy, --quantize int8 ->  best.val.greedy-int8.hyps.en
std::string default_hyps_path(const std::vector<std::string>& checkpoints, const EvalInput& input,
                              const SearchOptions& options) {
  const int64_t beam = options.beam;
  const tr::LengthPenalty length_penalty = options.length_penalty();
  std::string stem = input.split;
  if (!input.src_path.empty()) {
    stem = std::filesystem::path(input.src_path).filename().string();
    for (const std::string suffix : {".gz", ".de"})
      if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0)
        stem.resize(stem.size() - suffix.size());
  }
  std::string search = beam <= 1 ? "greedy" : fmt::format("beam{}", beam);
  if (beam > 1 && (length_penalty.alpha != 1.0 || length_penalty.gnmt))
    search += fmt::format("-{}{}", length_penalty.gnmt ? "gnmt" : "lp", length_penalty.alpha);
  if (options.quantize != "none") search += "-" + options.quantize;
  if (!options.shortlist.empty()) search += "-shortlist";
  const std::filesystem::path path(checkpoints.front());
  const std::string models = path.stem().string() + (checkpoints.size() > 1 ? fmt::format("+{}", checkpoints.size() - 1) : "");
  return (path.parent_path() / (models + "." + stem + "." + search + ".hyps.en")).string();
}

// What a command writes (`what`) must not land on a file it reads: `inputs` are (flag, path).
void check_output_path(const std::string& command, const std::string& out_path,
                       const std::vector<std::pair<std::string, std::string>>& inputs, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& [flag, path] : inputs) {
    if (path.empty()) continue;
    const bool same = fs::exists(out_path, ec) ? fs::equivalent(out_path, path, ec)
                                               : fs::weakly_canonical(out_path, ec) == fs::weakly_canonical(path, ec);
    if (same)
      tg::fail("{}: --out '{}' is the {} file; {} would overwrite it: choose another --out", command, out_path, flag, what);
  }
}

int run_eval(const std::vector<std::string>& checkpoints, const EvalInput& input, const SearchOptions& search,
             std::string out_path, int64_t max_tokens, tg::Device device) {
  const int64_t beam = search.beam;
  const tr::LengthPenalty length_penalty = search.length_penalty();
  if (out_path.empty()) out_path = default_hyps_path(checkpoints, input, search);
  std::vector<std::pair<std::string, std::string>> inputs = {{"--src", input.src_path}, {"--ref", input.ref_path}};
  for (const std::string& checkpoint : checkpoints) inputs.emplace_back("--checkpoint", checkpoint);
  check_output_path("eval", out_path, inputs, "the hypotheses");
  cli_checks::check_output_file(out_path, "--out", true);  // before decoding: hypotheses replace an older file
  tr::Translator translator = tr::load_translators(checkpoints, device);
  search.prepare(translator);
  if (checkpoints.size() > 1) fmt::print("an ensemble of {} models\n", checkpoints.size());
  const bool from_files = !input.src_path.empty();
  const tr::SplitText text =
      from_files ? tr::read_parallel_text(input.src_path, input.ref_path, input.limit)
                 : tr::read_split(tg::text::find_multi30k_dir(input.data_dir), input.split, input.limit, true);
  const std::string name = from_files ? "'" + input.src_path + "'" : input.split;
  tr::check_source_lengths(tr::source_token_lists(translator.info.codec, text), name, max_tokens);
  fmt::print("translating {} sentences of {} ({}) ...\n", text.src_tok.size(), name,
             beam <= 1 ? std::string("greedy") : fmt::format("beam {}, length penalty {}", beam, length_penalty.str()));
  std::fflush(stdout);
  const tr::CorpusEvaluation result =
      tr::evaluate_text(*translator.model, translator.info.codec, translator.info.src_vocab, translator.info.tgt_vocab,
                        text, beam, length_penalty);
  std::error_code ec;
  const bool replacing = std::filesystem::exists(out_path, ec);
  tg::text::write_lines(out_path, result.detokenized);
  fmt::print("wrote {} detokenized hypotheses to {}{} ({:.2f} s)\n", result.detokenized.size(), out_path,
             replacing ? " (replacing the file that was there)" : "", result.seconds);
  const std::string tokenized_refs =
      from_files ? fmt::format("'{}' tokenized as Multi30k's lc.norm.tok", input.ref_path)
                 : input.split + ".lc.norm.tok.en";
  const std::string raw_refs = from_files ? fmt::format("'{}'", input.ref_path) : input.split + ".en";
  fmt::print("multi-bleu.perl -lc (tokenized, lowercased, against {}):\n  {}\n", tokenized_refs,
             result.multi.str());
  fmt::print("sacreBLEU-style, computed by tapegrad (detokenized output against the raw, cased {}{}):\n  {}\n  "
             "signature: {}\n",
             raw_refs, translator.info.codec.is_subword() ? "" : "; the model writes lowercase", result.sacre.str(),
             result.sacre.signature);
  return 0;
}

// Sentences from the arguments, else lines of standard input. A stream is
// answered line for line: an empty input line gets an empty output line.
int run_translate(const std::vector<std::string>& checkpoints, const std::vector<std::string>& sentences,
                  const SearchOptions& search, const std::string& svg_path, int64_t max_tokens, tg::Device device) {
  const int64_t beam = search.beam;
  const tr::LengthPenalty length_penalty = search.length_penalty();
  tr::Translator translator = tr::load_translators(checkpoints, device);
  search.prepare(translator);
  const bool from_arguments = !sentences.empty();
  const std::vector<std::string> inputs =
      from_arguments ? sentences : tr::read_input_lines(std::cin, "standard input");
  const std::vector<std::vector<std::string>> sources =
      from_arguments ? tr::prepare_sources(translator.info.codec, inputs, "sentence", max_tokens)
                     : tr::prepare_sources(translator.info.codec, inputs, "line", max_tokens, tr::EmptyInput::keep);
  const bool has_attention = translator.info.config.kind != "cho";
  if (!svg_path.empty() && !has_attention)
    fmt::print(stderr, "note: the {} model has no attention, so there is no alignment to draw (--attention-svg "
                       "ignored)\n",
               translator.info.config.kind);
  // Chunks of lines searched together, each chunk printed as soon as it is done.
  const int64_t count = static_cast<int64_t>(sources.size()), chunk = 64;
  const bool with_attention = !svg_path.empty() && has_attention;
  for (int64_t begin = 0; begin < count; begin += chunk) {
    const int64_t end = std::min(count, begin + chunk);
    const std::vector<std::vector<std::string>> lines(sources.begin() + begin, sources.begin() + end);
    const std::vector<tr::Translation> translations =
        tr::translate_sentences(translator, lines, beam, length_penalty, with_attention);
    for (int64_t i = begin; i < end; ++i) {
      const tr::Translation& t = translations[static_cast<size_t>(i - begin)];
      fmt::print("{}\n", t.text);  // an empty line of the stream gets an empty line
      if (with_attention && !t.source_tokens.empty()) {
        const std::string path = tr::indexed_path(svg_path, i + 1, count);
        tg::write_text_file(path, tr::translation_attention_svg(t, translator));
        fmt::print(stderr, "attention for sentence {} written to {}\n", i + 1, path);
      }
    }
    std::fflush(stdout);
  }
  return 0;
}

// --threads and --device, which every command takes.
struct RunOptions {
  int threads = 2;
  std::string device = "cpu";

  void add_to(CLI::App* cmd) {
    cmd->add_option("--threads", threads, "threads for kernels and OpenBLAS (more than the cores only slows down)")
        ->check(cli_checks::between(1, 1024))
        ->capture_default_str();
    cmd->add_option("--device", device,
                    "where the model runs: cpu, cuda or cuda:N (an NVIDIA GPU); under mpirun, cuda puts rank r of a "
                    "machine on GPU r mod the GPUs it has")
        ->capture_default_str();
  }
};

// Each subcommand: its options (CLI11 keeps references to the fields, so a
// command object stays where main made it) and what it runs.
struct TrainCommand {
  CLI::App* cmd;
  tr::TrainOptions options;

  TrainCommand(CLI::App& app, RunOptions& run) {
    cmd = app.add_subcommand("train", "train a model; Ctrl-C or SIGTERM stops and saves, --resume continues");
    tr::TrainOptions& opt = options;
    opt.model.kind = "bahdanau";
    cmd->add_option("--model", opt.model.kind, "cho, bahdanau or transformer")
        ->check(CLI::IsMember({"cho", "bahdanau", "transformer"}))
        ->capture_default_str();
    cmd->add_option("--cell", opt.model.cell, "the encoder's and decoder's recurrent cell: gru or lstm")
        ->check(CLI::IsMember({"gru", "lstm"}))
        ->capture_default_str();
    cmd->add_option("--embed", opt.model.embed, "embedding size (transformer: d_model)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--hidden", opt.model.hidden, "hidden (GRU or LSTM state) size (transformer: the feed-forward size)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--dropout", opt.model.dropout, "dropout probability")
        ->check(cli_checks::between(0, 0.99))
        ->capture_default_str();
    cmd->add_option("--layers", opt.model.layers, "transformer: encoder layers and decoder layers (each)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--heads", opt.model.heads, "transformer: attention heads (must divide --embed)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_flag("--post-norm{false}", opt.model.norm_first,
                  "transformer: LayerNorm after each residual sum (Vaswani et al.) instead of before each block");
    cmd->add_flag("--tie-embeddings", opt.model.tie_embeddings,
                  "bahdanau, transformer: the target embedding doubles as the output matrix (Press & Wolf 2017); "
                  "logits = (W_o [s; c; E y] + b_o) E_tgtᵀ + b_v (transformer: h E_tgtᵀ + b_v)");
    cmd->add_flag("--recompute-encoder,--checkpoint-encoder", opt.model.recompute_encoder,
                  "keep none of the encoder's activations between forward and backward; run it again in "
                  "backward (less memory, more compute)");
    cmd->add_option("--epochs", opt.epochs, "epochs to train (in all, counting resumed ones)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--batch-size", opt.settings.batch_size, "sentence pairs per batch")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--lr", opt.lr, "Adam learning rate")->check(cli_checks::positive())->capture_default_str();
    cmd->add_option("--clip", opt.settings.clip, "gradient norm clipping (0: none)")
        ->check(cli_checks::non_negative())
        ->capture_default_str();
    cmd->add_option("--seed", opt.settings.seed, "seed for initialisation, batch order and dropout")
        ->capture_default_str();
    cmd->add_option("--precision", opt.settings.precision,
                    "matrix products (forward and backward) on inputs rounded to fp32 (none), tf32, bf16 or fp16, "
                    "accumulating in float32; weights, optimizer, softmax and loss stay float32; fp16 adds dynamic "
                    "loss scaling (steps with inf/NaN gradients skipped)")
        ->check(CLI::IsMember({"fp32", "tf32", "bf16", "fp16"}))
        ->capture_default_str();
    cmd->add_option("--data-dir", opt.data_dir,
                    "Multi30k directory (default: $MULTI30K_DIR, else ~/.cache/tapegrad/multi30k, where "
                    "scripts/get_multi30k.sh puts it)");
    cmd->add_option("--checkpoint-dir", opt.checkpoint_dir,
                    "where checkpoints, metrics and the language identifier for translate serve (language_id.json) "
                    "go (default runs/<model>, runs/<model>-lstm with --cell lstm)");
    cmd->add_flag("--resume", opt.resume, "continue from <checkpoint-dir>/last.safetensors");
    cmd->add_flag("--overwrite", opt.overwrite,
                  "start afresh in a checkpoint folder that holds a run, removing its checkpoints and metrics "
                  "(without it, such a folder is refused)")
        ->excludes("--resume");
    cmd->add_option("--vocab", opt.vocab,
                    "word: the lc.norm.tok words (lowercase output); subword: SentencePiece pieces of the raw, cased "
                    "text (cased, detokenized output, no <unk>)")
        ->check(CLI::IsMember({"word", "subword"}))
        ->capture_default_str();
    cmd->add_option("--vocab-size", opt.subword.vocab_size, "subword: pieces per model, specials included")
        ->check(cli_checks::between(8, 1000000))
        ->capture_default_str();
    cmd->add_option("--subword-type", opt.subword.model_type, "subword: SentencePiece's unigram or bpe")
        ->check(CLI::IsMember({"unigram", "bpe"}))
        ->capture_default_str();
    cmd->add_flag("--joint-vocab", opt.joint_subword, "subword: one model for German and English (else one each)");
    cmd->add_option("--label-smoothing", opt.settings.label_smoothing,
                    "ε: train against (1-ε)·one-hot + ε/V (validation loss and perplexity keep ε = 0)")
        ->check(cli_checks::between(0, 0.5))
        ->capture_default_str();
    cmd->add_option("--min-freq", opt.settings.min_freq, "vocabulary: tokens seen fewer times become <unk>")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--max-len", opt.settings.max_len, "drop training pairs with a side longer than this (tokens)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--lr-schedule", opt.settings.lr_schedule,
                    "none; plateau: halve the lr after 2 epochs without a better validation BLEU; cosine: from --lr "
                    "down to --min-lr at the end of --epochs, per step; inverse-sqrt: lr·min(t/W, √(W/t)) with "
                    "W = --warmup-steps")
        ->check(CLI::IsMember({"none", "plateau", "cosine", "inverse-sqrt"}))
        ->capture_default_str();
    cmd->add_option("--warmup-steps", opt.settings.warmup_steps,
                    "cosine and inverse-sqrt: raise the lr linearly over the first N steps")
        ->check(cli_checks::non_negative())
        ->capture_default_str();
    cmd->add_option("--min-lr", opt.settings.min_lr, "cosine: the lr it ends at")
        ->check(cli_checks::non_negative())
        ->capture_default_str();
    cmd->add_option("--limit-train", opt.settings.limit_train, "use the first N training pairs (0: all)")
        ->check(cli_checks::non_negative());
    cmd->add_option("--limit-val", opt.limit_val, "use the first N validation pairs (0: all)")
        ->check(cli_checks::non_negative());
    cmd->add_option("--max-steps", opt.max_steps, "stop (and save, resumably) after N optimizer steps in all")
        ->check(cli_checks::non_negative());
    cmd->add_flag("--profile", opt.profile,
                  "time every op of the training steps and print a table (by op: calls, forward and backward "
                  "time, bytes allocated, bytes kept for backward) when training ends or stops");
    cmd->add_option("--profile-warmup", opt.profile_warmup, "steps left out of --profile at the start")
        ->check(cli_checks::non_negative())
        ->capture_default_str();
    cmd->add_flag("--keep-epochs", opt.keep_epochs,
                  "also keep each epoch's model as epoch-N.safetensors (for translate average)");
    cmd->add_option("--eval-beam", opt.eval_beam, "beam size for the per-epoch validation BLEU (1: greedy)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    run.add_to(cmd);
  }

  int run(tg::Device device) {
    if (options.resume)
      for (const char* name : {"--embed", "--hidden", "--dropout", "--batch-size", "--lr", "--clip", "--seed",
                               "--min-freq", "--max-len", "--lr-schedule", "--limit-train", "--vocab", "--vocab-size",
                               "--subword-type", "--joint-vocab", "--label-smoothing", "--tie-embeddings", "--layers",
                               "--heads", "--post-norm",
                               "--precision"})
        if (cmd->count(name) > 0)
          fmt::print(stderr, "note: {} is ignored with --resume (the checkpoint's value is used)\n", name);
    tg::train::install_stop_signals();  // Ctrl-C or SIGTERM: the batch finishes, last is saved
    options.device = device;
    tr::TrainHooks hooks;
    hooks.stop = &tg::signals::stop_requested();
    hooks.terminal = tg::train::is_terminal(STDOUT_FILENO);
    tr::train(options, hooks);
    return 0;
  }
};

// The checkpoints eval and translate read: one model, or several decoded as an ensemble.
void add_checkpoints_option(CLI::App* cmd, std::vector<std::string>& checkpoints) {
  cmd->add_option("--checkpoint", checkpoints,
                  "a checkpoint written by train (or average); several (--checkpoint a --checkpoint b) decode as "
                  "an ensemble, averaging their log-probabilities at each step")
      ->required()
      ->allow_extra_args(false);  // one path per --checkpoint: the sentences follow
}

struct EvalCommand {
  CLI::App* cmd;
  std::vector<std::string> checkpoints;
  std::string out_path;
  EvalInput input;
  SearchOptions search;
  int64_t max_tokens = tr::kMaxSentenceTokens;

  EvalCommand(CLI::App& app, RunOptions& run) {
    cmd = app.add_subcommand(
        "eval", "translate a Multi30k split, or any German file with English references, and print BLEU");
    input.split = "test_2016_flickr";
    add_checkpoints_option(cmd, checkpoints);
    CLI::Option* split_option = cmd->add_option("--split", input.split, "val or test_2016_flickr")
                                    ->check(CLI::IsMember({"val", "test_2016_flickr"}))
                                    ->capture_default_str();
    CLI::Option* src_option = cmd->add_option(
        "--src", input.src_path, "raw German sentences, one per line, plain or .gz (with --ref; instead of --split)");
    CLI::Option* ref_option = cmd->add_option("--ref", input.ref_path,
                                              "raw English references, line i for line i of --src, plain or .gz");
    src_option->needs(ref_option)->excludes(split_option);
    ref_option->needs(src_option)->excludes(split_option);
    search.add_to(cmd);
    cmd->add_option("--out", out_path,
                    "hypotheses file (default: beside the checkpoint, <split>.hyps.en, or for --src news.de.gz "
                    "news.hyps.en)");
    cmd->add_option("--data-dir", input.data_dir, "Multi30k directory (as for train)");
    cmd->add_option("--limit", input.limit, "use the first N sentences (0: all)")->check(cli_checks::non_negative());
    cmd->add_option("--max-tokens", max_tokens, "refuse source lines longer than this many tokens")
        ->check(cli_checks::positive())
        ->capture_default_str();
    run.add_to(cmd);
  }

  int run(tg::Device device) const {
    search.check();
    return run_eval(checkpoints, input, search, out_path, max_tokens, device);
  }
};

struct TranslateCommand {
  CLI::App* cmd;
  std::vector<std::string> checkpoints;
  std::string svg_path;
  std::vector<std::string> sentences;
  SearchOptions search;
  int64_t max_tokens = tr::kMaxSentenceTokens;

  TranslateCommand(CLI::App& app, RunOptions& run) {
    cmd = app.add_subcommand("translate",
                             "translate German sentences (arguments, else one per line on standard input)");
    cmd->footer(
        "Standard input is read to its end and checked before anything is translated: a line that is not UTF-8 is "
        "refused, naming the line and byte (status 1). Output line i is the translation of input line i; an empty "
        "(or white-space) input line gets an empty output line. An empty sentence given as an argument is an "
        "error.");
    add_checkpoints_option(cmd, checkpoints);
    search.add_to(cmd);
    cmd->add_option("--attention-svg", svg_path,
                    "draw each sentence's attention alignment to FILE (FILE-N.svg for several)");
    cmd->add_option("--max-tokens", max_tokens, "refuse sentences longer than this many tokens")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("sentences", sentences, "German sentences");
    run.add_to(cmd);
  }

  int run(tg::Device device) const {
    search.check();
    return run_translate(checkpoints, sentences, search, svg_path, max_tokens, device);
  }
};

struct ShortlistCommand {
  CLI::App* cmd;
  std::string checkpoint, out_path, data_dir;
  tr::ShortlistOptions options;
  bool overwrite = false;

  explicit ShortlistCommand(CLI::App& app) {
    cmd = app.add_subcommand("shortlist",
                             "learn a vocabulary shortlist for decoding (IBM Model 1 on the training pairs): per source "
                             "word its most likely translations, and the most frequent target words");
    cmd->add_option("--checkpoint", checkpoint, "the checkpoint whose vocabularies the list is for")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", out_path, "where to write it (default: beside the checkpoint, <name>.shortlist)");
    cmd->add_flag("--overwrite", overwrite, "replace --out if it exists (refused otherwise)");
    cmd->add_option("--data-dir", data_dir, "Multi30k directory (as for train)");
    cmd->add_option("--frequent", options.frequent, "the most frequent target words, in every batch's list")
        ->check(cli_checks::between(0, 1e7))
        ->capture_default_str();
    cmd->add_option("--best", options.best, "per source word, its most likely translations")
        ->check(cli_checks::between(1, 1e7))
        ->capture_default_str();
    cmd->add_option("--iterations", options.iterations, "EM iterations of IBM Model 1")
        ->check(cli_checks::between(1, 100))
        ->capture_default_str();
  }

  int run() {
    if (out_path.empty()) out_path = std::filesystem::path(checkpoint).replace_extension(".shortlist").string();
    cli_checks::check_output_file(out_path, "--out", overwrite);
    const tr::CheckpointInfo info = tr::read_checkpoint_info(checkpoint);
    const auto start = std::chrono::steady_clock::now();
    const tr::Shortlist list = tr::build_shortlist(info, data_dir, options);
    list.save(out_path);
    fmt::print("wrote {} ({} source words, {} frequent + up to {} best of {} target words, {:.1f} s)\n", out_path,
               list.source_size(), list.always().size(), options.best, list.target_size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (const double words = tr::mean_batch_vocabulary(list, info, data_dir, "val", 64); words > 0)
      fmt::print("a batch of 64 validation sentences decodes on {:.0f} of {} target words on average\n", words,
                 list.target_size());
    return 0;
  }
};

struct QuantizeCommand {
  CLI::App* cmd;
  std::string checkpoint, out_path;
  bool overwrite = false;

  explicit QuantizeCommand(CLI::App& app) {
    cmd = app.add_subcommand("quantize",
                             "write an int8 checkpoint for decoding: every weight matrix and embedding as int8 codes "
                             "per row, about a quarter of the size; it decodes exactly as --quantize int8 does on the "
                             "checkpoint it was made from, on the cpu, and cannot be trained");
    cmd->add_option("--checkpoint", checkpoint, "the float32 checkpoint to quantize")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", out_path, "where to write it (default: beside the checkpoint, <name>.int8.safetensors)");
    cmd->add_flag("--overwrite", overwrite, "replace --out if it exists (refused otherwise)");
  }

  int run() {
    namespace fs = std::filesystem;
    if (out_path.empty()) out_path = fs::path(checkpoint).replace_extension(".int8.safetensors").string();
    check_output_path("quantize", out_path, {{"--checkpoint", checkpoint}}, "the int8 checkpoint");
    cli_checks::check_output_file(out_path, "--out", overwrite);
    const tr::Translator translator = tr::load_translator(checkpoint);
    tr::save_int8_checkpoint(out_path, translator);
    const double before = static_cast<double>(fs::file_size(checkpoint)), after = static_cast<double>(fs::file_size(out_path));
    fmt::print("wrote {} ({}, {:.2f}x the {} of {})\n", out_path, cli_checks::format_bytes(after), after / before,
               cli_checks::format_bytes(before), checkpoint);
    return 0;
  }
};

struct AverageCommand {
  CLI::App* cmd;
  std::vector<std::string> checkpoints;
  std::string out_path;
  bool overwrite = false;

  explicit AverageCommand(CLI::App& app) {
    cmd = app.add_subcommand("average",
                             "average the parameters of checkpoints of one model (e.g. the last epochs of a run "
                             "trained with --keep-epochs) into one checkpoint");
    cmd->add_option("checkpoints", checkpoints, "checkpoints of one model")->required();
    cmd->add_option("--out", out_path, "the averaged checkpoint to write")->required();
    cmd->add_flag("--overwrite", overwrite, "replace --out if it exists (refused otherwise)");
  }

  int run() const {
    cli_checks::check_output_file(out_path, "--out", overwrite);
    tr::average_checkpoints(checkpoints, out_path);
    fmt::print("wrote the average of {} checkpoint{} to {}\n", checkpoints.size(), checkpoints.size() == 1 ? "" : "s", out_path);
    return 0;
  }
};

struct LangidCommand {
  CLI::App* cmd;
  std::string checkpoint, out_path, data_dir;
  int64_t limit = -1;  // -1: the checkpoint's --limit-train, else all
  bool overwrite = false;

  explicit LangidCommand(CLI::App& app) {
    cmd = app.add_subcommand("langid",
                             "learn the language identifier that serve answers /detect and \"source\": \"auto\" "
                             "with (naive Bayes over byte n-grams of Multi30k's German and English training text) "
                             "and save it; train saves one in every run folder, this makes one for a checkpoint "
                             "whose folder lacks it");
    cmd->add_option("--checkpoint", checkpoint,
                    "the checkpoint it is for: written beside it (language_id.json, where serve looks), learned "
                    "from the training lines it was trained on (its --limit-train)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", out_path, "where to write it (default: language_id.json beside --checkpoint)");
    cmd->add_flag("--overwrite", overwrite, "replace --out if it exists (refused otherwise)");
    cmd->add_option("--data-dir", data_dir, "Multi30k directory (as for train)");
    cmd->add_option("--limit", limit,
                    "learn from the first N training lines of each language (0: all; default: the checkpoint's "
                    "--limit-train, else all)")
        ->check(cli_checks::non_negative());
  }

  int run() {
    if (checkpoint.empty() && out_path.empty())
      tg::fail("langid: give --checkpoint (the identifier is written beside it) or --out");
    if (out_path.empty()) out_path = tr::language_identifier_path(checkpoint);
    check_output_path("langid", out_path, {{"--checkpoint", checkpoint}}, "the language identifier");
    cli_checks::check_output_file(out_path, "--out", overwrite);
    if (limit < 0) limit = checkpoint.empty() ? 0 : tr::read_checkpoint_info(checkpoint).settings.limit_train;
    const std::string dir = tg::text::find_multi30k_dir(data_dir);
    const auto start = std::chrono::steady_clock::now();
    const tr::LanguageIdentifier identifier = tr::learn_language_identifier(dir, limit);
    identifier.save(out_path);
    fmt::print("wrote {} (de from {} and en from {} training sentences of {}, {:.1f} s)\n", out_path,
               identifier.sentences("de"), identifier.sentences("en"), dir,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  }
};

struct ServeCommand {
  CLI::App* cmd;
  tr::ServeOptions options;
  SearchOptions search;

  ServeCommand(CLI::App& app, RunOptions& run) {
    cmd = app.add_subcommand("serve",
                             "answer translation requests over HTTP (LibreTranslate's API, OpenNMT-py's, a page at /); "
                             "SIGTERM or Ctrl-C finishes the requests in flight and stops (docs/serving.md)");
    add_checkpoints_option(cmd, options.checkpoints);
    search.beam = 5;
    search.add_to(cmd);
    serve_flags::add_to(cmd, options.server, options.batching,
                        {.item = "sentence", .items = "sentences", .max_batch_limit = 4096, .max_queue_limit = 1e7,
                         .api_key_help = "require this key in translation requests (the body's \"api_key\", "
                                         "?api_key=, X-API-Key or Authorization: Bearer); 403 without"});
    cmd->add_option("--max-tokens", options.max_tokens, "refuse sentences longer than this many tokens (400)")
        ->check(cli_checks::positive())
        ->capture_default_str();
    cmd->add_option("--max-sentences", options.max_sentences, "refuse requests with more sentences (400)")
        ->check(cli_checks::between(1, 1e6))
        ->capture_default_str();
    cmd->add_option("--max-characters", options.max_characters,
                    "refuse requests whose sentences have more characters in all (400), counted before tokenizing")
        ->check(cli_checks::between(1, 1e9))
        ->capture_default_str();
    cmd->add_option("--model-id", options.model_id, "the model's id in OpenNMT-py's routes (/translator/...)")
        ->check(cli_checks::between(0, 1e9))
        ->capture_default_str();
    cmd->add_option("--language-id", options.language_id,
                    "the language identifier for /detect and \"source\": \"auto\", a file saved by train or "
                    "langid (default: language_id.json beside the checkpoint)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--data-dir", options.data_dir,
                    "Multi30k, whose German and English training text teaches the language identifier at start when "
                    "none is saved beside the checkpoint (default: $MULTI30K_DIR, then the download cache)");
    cmd->footer(
        "The language identifier (/detect, \"source\": \"auto\") is --language-id's file; else language_id.json "
        "beside the (first) checkpoint that has one, which train writes in its run folder and `translate langid "
        "--checkpoint FILE` makes for a checkpoint without one; else learned at start from Multi30k's training text "
        "(--data-dir); else there is none: /detect answers 501 and \"auto\" reads German. Which one is said on "
        "standard error at start.");
    run.add_to(cmd);
  }

  int run(tg::Device device) {
    search.check();
    options.beam = search.beam;
    options.length_penalty = search.length_penalty();
    options.quantize = search.quantize;
    options.shortlist = search.shortlist;
    options.device = device;
    return tr::run_server(options);
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"German→English translation on Multi30k: Cho et al. 2014's RNN encoder–decoder and Bahdanau et al. "
               "2014's attention model."};
  app.require_subcommand(1);
  RunOptions run;
  TrainCommand train(app, run);
  EvalCommand eval(app, run);
  TranslateCommand translate(app, run);
  ShortlistCommand shortlist(app);
  QuantizeCommand quantize(app);
  AverageCommand average(app);
  ServeCommand serve(app, run);
  LangidCommand langid(app);
  if (const std::string unknown = cli_checks::unknown_command(app, argc, argv); !unknown.empty()) {
    fmt::print(stderr, "{}\n", unknown);
    return 2;
  }
  CLI11_PARSE(app, argc, argv);
  cli_checks::note_if_more_threads_than_cores(run.threads);
  tg::set_num_threads(run.threads);

  // Under mpirun, train shares each batch among the ranks; a rank that fails
  // ends them all (distributed/run.h).
  return tg::distributed::run_ranks(argc, argv, [&]() {
    const tg::Device device = tg::distributed::rank_device(run.device);  // mpirun: "cuda" spreads ranks over the GPUs
    tg::device_backend(device);  // an unusable device fails here, before any data is read
    if (*train.cmd) return train.run(device);
    if (*eval.cmd) return eval.run(device);
    if (*translate.cmd) return translate.run(device);
    if (*shortlist.cmd) return shortlist.run();
    if (*quantize.cmd) return quantize.run();
    if (*average.cmd) return average.run();
    if (*serve.cmd) return serve.run(device);
    if (*langid.cmd) return langid.run();
    return 0;
  });
}
