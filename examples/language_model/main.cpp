// language_model: next-word prediction (Embedding -> GRU -> Linear) on the
// English side of Multi30k, then text sampled from a prompt.
//
//   language_model --threads 2 --save lm.safetensors            train; keep the best epoch
//   language_model --checkpoint-dir runs/lm                      a run folder: Ctrl-C saves, --resume continues
//   language_model --load lm.safetensors --generate "a man"      sample a continuation
//   language_model --limit-train 2000 --epochs 1 --generate "two dogs" --temperature 0
//   language_model --device cuda --save lm.safetensors          train on an NVIDIA GPU
//   mpirun -np 4 language_model --batch-size 256 --save lm.safetensors
//                               4 processes, each a quarter of every batch (docs/distributed.md)
//
// Training reports the loss as it goes and, per epoch, the validation
// perplexity: exp of the mean negative log-likelihood of every validation
// token (<eos> included, padding excluded).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>

#include <cstdio>
#include <string>

#include "distributed/distributed.h"
#include "distributed/rank_device.h"
#include "distributed/run.h"
#include "apps/language_model/language_model.h"
#include "examples/cli_checks.h"

int main(int argc, char** argv) {
  CLI::App app{"Word-level GRU language model on Multi30k English: trains, reports validation perplexity, and "
               "generates text from a prompt."};
  tg::language_model::LanguageModelOptions options;
  tg::language_model::GenerateOptions generation;
  std::string load_path, prompt;
  int threads = 0;
  int samples = 1;
  std::string device_name = "cpu";
  app.add_option("--data-dir", options.data_dir,
                 "directory holding train.lc.norm.tok.en.gz and val.lc.norm.tok.en.gz "
                 "(default: $MULTI30K_DIR, else ~/.cache/tapegrad/multi30k, where scripts/get_multi30k.sh puts it)");
  app.add_option("--min-freq", options.min_freq, "words seen fewer times in training become <unk>")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--epochs", options.epochs, "passes over the training sentences")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--batch-size", options.batch_size, "sentences per update")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--embed", options.model.embed, "word vector size")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{8192}));
  app.add_option("--hidden", options.model.hidden, "GRU state size")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{8192}));
  app.add_option("--layers", options.model.layers, "GRU layers")->capture_default_str()->check(CLI::Range(1, 16));
  app.add_option("--dropout", options.model.dropout, "dropout on embeddings and GRU outputs")
      ->capture_default_str()->check(cli_checks::between(0.0, 0.95));
  app.add_option("--lr", options.lr, "Adam learning rate")->capture_default_str()->check(cli_checks::between(1e-8, 10.0));
  app.add_option("--clip", options.clip, "max gradient norm (0: off)")->capture_default_str()->check(cli_checks::between(0.0, 1e6));
  app.add_option("--seed", options.seed, "seed of weights, dropout, batch order and sampling")->capture_default_str();
  app.add_option("--threads", threads, "threads for kernels and OpenBLAS (0: all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
  app.add_option("--limit-train", options.limit_train, "use only the first N training sentences (0: all)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  app.add_option("--max-steps", options.max_steps, "stop after N updates (0: no limit)")->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  app.add_option("--log-every", options.log_every, "a progress line every N updates")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--device", device_name, "where the model runs: cpu, cuda or cuda:N (an NVIDIA GPU)")
      ->capture_default_str();
  app.add_option("--precision", options.precision,
                 "matrix products on inputs rounded to fp32 (none), tf32, bf16 or fp16, accumulating in float32; "
                 "fp16 adds dynamic loss scaling")
      ->capture_default_str()->check(CLI::IsMember({"fp32", "tf32", "bf16", "fp16"}));
  app.add_option("--save", options.save_path, "save the best checkpoint (by validation perplexity) here");
  app.add_option("--checkpoint-dir", options.checkpoint_dir,
                 "the run's folder: last.safetensors (Ctrl-C or SIGTERM saves it; --resume continues), "
                 "best.safetensors, metrics.csv");
  app.add_flag("--resume", options.resume, "continue the run in --checkpoint-dir, with its own settings");
  app.add_flag("--overwrite", options.overwrite,
               "let --save replace a file that exists, or a new run replace the one in --checkpoint-dir (refused "
               "otherwise)");
  app.add_option("--load", load_path, "load this checkpoint instead of training")->check(CLI::ExistingFile);
  auto* generate_opt = app.add_option("--generate", prompt, "continue this prompt (e.g. \"a man\") after training or loading");
  app.add_option("--temperature", generation.temperature, "sampling temperature (0: greedy)")
      ->capture_default_str()->check(cli_checks::between(0.0, 100.0));
  app.add_option("--max-words", generation.max_words, "most words to generate")->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{10000}));
  app.add_option("--samples", samples, "how many continuations to sample")->capture_default_str()->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  const bool prompt_given = generate_opt->count() > 0;

  options.log = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  // Under mpirun every rank trains its share of each batch; rank 0 prints.
  return tg::distributed::run_ranks(argc, argv, [&]() {
    cli_checks::note_if_more_threads_than_cores(threads);
    if (threads > 0) tg::set_num_threads(threads);
    options.device = tg::distributed::rank_device(device_name);
    tg::device_backend(options.device);  // an unusable device fails here, before any data is read
    tg::language_model::LanguageModel loaded;
    const tg::language_model::LanguageModel* lm = nullptr;
    if (!load_path.empty()) {
      if (!prompt_given) tg::fail("language_model: --load needs --generate \"prompt\" (there is nothing else to do)");
      loaded = tg::language_model::load_language_model(load_path, options.device);
      fmt::print("loaded {} ({} words in the vocabulary)\n", load_path, loaded.vocab.size());
      lm = &loaded;
    }
    tg::language_model::LanguageModelReport report;
    if (!lm) {
      if (options.resume && options.checkpoint_dir.empty())
        tg::fail("language_model: --resume needs the run's --checkpoint-dir");
      report = tg::language_model::train_language_model(options, [&](const std::string& flag) { return app.count(flag) > 0; });
      if (!tg::distributed::is_root()) return 0;
      fmt::print("best validation perplexity {:.2f} (epoch {})\n", report.val_perplexity, report.best_epoch);
      lm = &report.trained;
    }
    if (prompt_given) {
      const std::vector<std::string> tokens = tg::text::tokenize(prompt, "en");
      for (const std::string& t : tokens)
        if (!lm->vocab.contains(t)) fmt::print("note: '{}' is not in the vocabulary; the model reads it as <unk>\n", t);
      for (int i = 0; i < samples; ++i) {
        generation.seed = options.seed + static_cast<uint64_t>(i);
        std::vector<std::string> words = tg::language_model::generate(*lm, tokens, generation);
        words.insert(words.begin(), tokens.begin(), tokens.end());
        fmt::print("{}\n", tg::text::detokenize(words, "en"));
      }
    }
    return 0;
  });
}
