#pragma once
// Time-series regression with a GRU: windows of `window` past values predict
// the next one.
//
//   series x_0 .. x_{N-1}; target x_t, input x_{t-w} .. x_{t-1}, for t = w .. N-1
//   training targets  t <  split,  held-out targets t >= split = N - ⌊heldout·N⌋
//   z = (x - mean) / std            mean and std of x_0 .. x_{split-1} only
//   ẑ_t = Linear(h_last)            h_last (B, H) = GRU's last state over the window
//   loss = mean (ẑ_t - z_t)²        (in normalised units; reported MSEs are in x's units)
//
// The naive baseline predicts x_t = x_{t-1}; a useful model beats it.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/types/device.h"

namespace tg::time_series {

struct TimeSeriesOptions {
  int64_t window = 24;      // past values per prediction
  int64_t hidden = 32;      // GRU state size
  int epochs = 40;
  int64_t batch_size = 32;
  double lr = 5e-3;         // Adam
  double clip = 1.0;        // max gradient norm (0: no clipping)
  double heldout = 0.2;     // share of the series, at its end, held out
  uint64_t seed = 0;        // initial weights and batch order
  int64_t max_steps = 0;    // > 0: stop after this many updates in all (with a checkpoint_dir resumably)
  // The run folder (train/harness.h): last.safetensors (resumable; Ctrl-C and
  // SIGTERM save it), best.safetensors (lowest held-out MSE), metrics.csv. "": nothing saved.
  std::string checkpoint_dir;
  bool resume = false, overwrite = false;
  std::string resume_command;  // printed when a signal stops the run
  Device device = Device::cpu();  // where the model and its batches live
  std::function<void(const std::string&)> log;  // progress lines; none when empty
};

// One held-out point: x_index, the model's prediction and the baseline's.
struct TimeSeriesPrediction {
  int64_t index = 0;
  double actual = 0, predicted = 0, baseline = 0;
};

struct TimeSeriesReport {
  std::vector<double> train_loss_per_step;   // normalised units
  std::vector<double> train_loss_per_epoch;  // mean over the epoch's steps, normalised units
  double train_mse = 0;     // over every training target, after training, in x's units
  double heldout_mse = 0;   // the model on the held-out targets, in x's units
  double baseline_mse = 0;  // x_t = x_{t-1} on the same held-out targets
  double mean = 0, std = 1; // the training statistics used to normalise
  int64_t train_points = 0, heldout_points = 0;
  std::vector<TimeSeriesPrediction> predictions;  // the held-out points, in order
};

// The built-in signal: x_t = sin(2πt/50) + 0.5·sin(2πt/23 + 1) + 0.3·sin(2πt/7.3 + 2) + ε_t,
// ε_t ~ N(0, noise²) drawn from `seed`.
std::vector<double> make_signal(int64_t length, double noise, uint64_t seed);

// A one-column CSV: one number per line, an optional non-numeric header on
// line 1, blank lines skipped. Errors name the file and the 1-based line.
std::vector<double> read_series_csv(const std::string& path);

// index,actual,predicted,baseline: one line per held-out point, after a header.
void write_predictions_csv(const std::string& path, const std::vector<TimeSeriesPrediction>& predictions);

// Trains on `series` as described above, on the harness (train/harness.h);
// throws tg::Error for bad options or a series too short for the window and
// split. `given(flag)`: whether the command line set a flag (a resumed run
// says when one differs from the run's; the series must be the run's).
// The report is of the model as training left it (the last epoch's).
TimeSeriesReport train_time_series(const std::vector<double>& series, const TimeSeriesOptions& options,
                                   const std::function<bool(const std::string&)>& given = {});

}  // namespace tg::time_series
