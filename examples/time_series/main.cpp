// time_series: a GRU predicts the next value of a series from a window of past
// values, and is compared with the naive forecast x_t = x_{t-1}.
//
//   time_series                          the built-in noisy sum of sines
//   time_series --csv prices.csv --window 30 --out predictions.csv
//   time_series --device cuda            the same on an NVIDIA GPU
//   time_series --checkpoint-dir runs/ts a run folder: Ctrl-C saves, --resume continues
//
// The last 20% of the series is held out; the model sees only the values
// before each held-out point (the true ones: one-step-ahead forecasts).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad.h>

#include <cstdio>
#include <string>

#include "apps/time_series/time_series.h"
#include "examples/cli_checks.h"

int main(int argc, char** argv) {
  CLI::App app{"GRU regression on a time series: windows of past values predict the next value; reports held-out "
               "MSE against the naive last-value forecast."};
  tg::time_series::TimeSeriesOptions options;
  std::string csv_path, out_path;
  int64_t length = 2000;
  double noise = 0.1;
  uint64_t signal_seed = 7;
  int threads = 1;  // a 32-unit GRU on 32 windows: too little work per op for threads to pay
  std::string device_name = "cpu";
  app.add_option("--csv", csv_path, "one-column CSV of values (optional header line); default: the built-in signal")
      ->check(CLI::ExistingFile);
  app.add_option("--length", length, "points of the built-in signal")->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{10'000'000}));
  app.add_option("--noise", noise, "standard deviation of the built-in signal's Gaussian noise")
      ->capture_default_str()->check(cli_checks::between(0.0, 1e6));
  app.add_option("--signal-seed", signal_seed, "seed of the built-in signal's noise")->capture_default_str();
  app.add_option("--window", options.window, "past values per prediction")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--hidden", options.hidden, "GRU state size")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{8192}));
  app.add_option("--epochs", options.epochs, "passes over the training windows")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--batch-size", options.batch_size, "windows per update")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  app.add_option("--lr", options.lr, "Adam learning rate")->capture_default_str()->check(cli_checks::between(1e-8, 10.0));
  app.add_option("--clip", options.clip, "max gradient norm (0: off)")->capture_default_str()->check(cli_checks::between(0.0, 1e6));
  app.add_option("--heldout", options.heldout, "share of the series held out at its end")->capture_default_str()->check(cli_checks::between(0.01, 0.99));
  app.add_option("--seed", options.seed, "seed of the initial weights and batch order")->capture_default_str();
  app.add_option("--threads", threads, "threads for kernels and OpenBLAS (0: all cores; this small model runs best on 1)")->capture_default_str()->check(CLI::Range(0, 1024));
  app.add_option("--device", device_name, "where the model runs: cpu, cuda or cuda:N (an NVIDIA GPU)")
      ->capture_default_str();
  app.add_option("--out", out_path, "write index,actual,predicted,baseline of the held-out points to this CSV");
  app.add_option("--max-steps", options.max_steps, "stop after N updates in all (0: no limit)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  app.add_option("--checkpoint-dir", options.checkpoint_dir,
                 "the run's folder: last.safetensors (Ctrl-C or SIGTERM saves it; --resume continues), "
                 "best.safetensors, metrics.csv (default: none, nothing saved)");
  app.add_flag("--resume", options.resume, "continue the run in --checkpoint-dir (on the same series)");
  app.add_flag("--overwrite", options.overwrite, "let a new run replace the one in --checkpoint-dir");
  CLI11_PARSE(app, argc, argv);

  options.log = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  try {
    cli_checks::note_if_more_threads_than_cores(threads);
    if (threads > 0) tg::set_num_threads(threads);
    options.device = tg::parse_device(device_name);
    tg::device_backend(options.device);  // an unusable device fails here, before any work
    const std::vector<double> series =
        csv_path.empty() ? tg::time_series::make_signal(length, noise, signal_seed) : tg::time_series::read_series_csv(csv_path);
    fmt::print("series: {} values from {}; window {}, {:.0f}% held out\n", series.size(),
               csv_path.empty() ? "the built-in signal" : csv_path, options.window, options.heldout * 100);
    if (options.resume && options.checkpoint_dir.empty()) tg::fail("time_series: --resume needs the run's --checkpoint-dir");
    options.resume_command = fmt::format("time_series {}--checkpoint-dir {} --epochs {} --resume",
                                         csv_path.empty() ? "" : "--csv " + csv_path + " ", options.checkpoint_dir,
                                         options.epochs);
    const tg::time_series::TimeSeriesReport report =
        tg::time_series::train_time_series(series, options, [&](const std::string& flag) { return app.count(flag) > 0; });
    fmt::print("training targets {}, held-out targets {} (normalised with mean {:.4g}, std {:.4g})\n",
               report.train_points, report.heldout_points, report.mean, report.std);
    fmt::print("train MSE     {:.6g}\n", report.train_mse);
    fmt::print("held-out MSE  {:.6g}   naive last-value baseline {:.6g}   ratio {:.3g}\n", report.heldout_mse,
               report.baseline_mse, report.heldout_mse / report.baseline_mse);
    if (!out_path.empty()) {
      tg::time_series::write_predictions_csv(out_path, report.predictions);
      fmt::print("wrote {} held-out predictions to {}\n", report.predictions.size(), out_path);
    }
  } catch (const tg::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
